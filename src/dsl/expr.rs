//! Scalar expressions of the DSL: activation bodies (`z + a*z^2`) and `let` values.

use std::collections::BTreeSet;
use std::fmt;

/// A parsed scalar expression. Numbers keep their source text so that exact
/// (rational) readings stay possible downstream.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number with its source text.
    Num(f64, String),
    /// A variable or constant name.
    Var(String),
    /// −a.
    Neg(Box<Expr>),
    /// a + b.
    Add(Box<Expr>, Box<Expr>),
    /// a − b.
    Sub(Box<Expr>, Box<Expr>),
    /// a · b.
    Mul(Box<Expr>, Box<Expr>),
    /// a / b.
    Div(Box<Expr>, Box<Expr>),
    /// a ^ b.
    Pow(Box<Expr>, Box<Expr>),
    /// A function call `name(args)`.
    Call(String, Vec<Expr>),
}

/// Functions an expression may call, with their arity.
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("exp", 1),
    ("log", 1),
    ("sin", 1),
    ("cos", 1),
    ("tanh", 1),
    ("sigmoid", 1),
    ("softplus", 1),
    ("erf", 1),
    ("sqrt", 1),
];

impl Expr {
    /// Free variable names, sorted.
    pub fn free_vars(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_vars(&mut out);
        out
    }

    fn collect_vars(&self, out: &mut BTreeSet<String>) {
        match self {
            Expr::Num(..) => {}
            Expr::Var(v) => {
                out.insert(v.clone());
            }
            Expr::Neg(a) => a.collect_vars(out),
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Div(a, b)
            | Expr::Pow(a, b) => {
                a.collect_vars(out);
                b.collect_vars(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.collect_vars(out)),
        }
    }

    /// Replace variable `name` by `value` everywhere.
    pub fn substitute(&self, name: &str, value: &Expr) -> Expr {
        let s = |e: &Expr| Box::new(e.substitute(name, value));
        match self {
            Expr::Var(v) if v == name => value.clone(),
            Expr::Num(..) | Expr::Var(_) => self.clone(),
            Expr::Neg(a) => Expr::Neg(s(a)),
            Expr::Add(a, b) => Expr::Add(s(a), s(b)),
            Expr::Sub(a, b) => Expr::Sub(s(a), s(b)),
            Expr::Mul(a, b) => Expr::Mul(s(a), s(b)),
            Expr::Div(a, b) => Expr::Div(s(a), s(b)),
            Expr::Pow(a, b) => Expr::Pow(s(a), s(b)),
            Expr::Call(f, args) => Expr::Call(
                f.clone(),
                args.iter().map(|a| a.substitute(name, value)).collect(),
            ),
        }
    }

    /// Evaluate with a variable lookup; `None` if a variable is unbound.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<f64>) -> Option<f64> {
        Some(match self {
            Expr::Num(v, _) => *v,
            Expr::Var(v) => lookup(v)?,
            Expr::Neg(a) => -a.eval(lookup)?,
            Expr::Add(a, b) => a.eval(lookup)? + b.eval(lookup)?,
            Expr::Sub(a, b) => a.eval(lookup)? - b.eval(lookup)?,
            Expr::Mul(a, b) => a.eval(lookup)? * b.eval(lookup)?,
            Expr::Div(a, b) => a.eval(lookup)? / b.eval(lookup)?,
            Expr::Pow(a, b) => a.eval(lookup)?.powf(b.eval(lookup)?),
            Expr::Call(f, args) => {
                let x = args[0].eval(lookup)?;
                match f.as_str() {
                    "exp" => x.exp(),
                    "log" => x.ln(),
                    "sin" => x.sin(),
                    "cos" => x.cos(),
                    "tanh" => x.tanh(),
                    "sigmoid" => 1.0 / (1.0 + (-x).exp()),
                    "softplus" => softplus(x),
                    "erf" => libm::erf(x),
                    "sqrt" => x.sqrt(),
                    _ => return None,
                }
            }
        })
    }

    /// Render in a syntax shared by the DSL, SymPy and Symbolica (`^` becomes `**` for SymPy).
    pub fn render(&self, pow: &str) -> String {
        self.render_prec(pow, 0)
    }

    fn render_prec(&self, pow: &str, ctx: u8) -> String {
        // precedence: 1 add/sub, 2 mul/div, 3 unary minus, 4 pow, 5 atoms
        let (s, p) = match self {
            Expr::Num(_, text) => (text.clone(), 5),
            Expr::Var(v) => (v.clone(), 5),
            Expr::Neg(a) => (format!("-{}", a.render_prec(pow, 3)), 3),
            Expr::Add(a, b) => (
                format!("{} + {}", a.render_prec(pow, 1), b.render_prec(pow, 1)),
                1,
            ),
            Expr::Sub(a, b) => (
                format!("{} - {}", a.render_prec(pow, 1), b.render_prec(pow, 2)),
                1,
            ),
            Expr::Mul(a, b) => (
                format!("{}*{}", a.render_prec(pow, 2), b.render_prec(pow, 2)),
                2,
            ),
            Expr::Div(a, b) => (
                format!("{}/{}", a.render_prec(pow, 2), b.render_prec(pow, 3)),
                2,
            ),
            Expr::Pow(a, b) => (
                format!("{}{}{}", a.render_prec(pow, 5), pow, b.render_prec(pow, 4)),
                4,
            ),
            Expr::Call(f, args) => {
                let a: Vec<String> = args.iter().map(|a| a.render_prec(pow, 0)).collect();
                (format!("{}({})", f, a.join(", ")), 5)
            }
        };
        if p < ctx {
            format!("({s})")
        } else {
            s
        }
    }
}

impl Expr {
    /// LaTeX rendering (`\\tanh\\left(z\\right)^{2}`, fractions for `/`).
    pub fn latex(&self) -> String {
        self.latex_prec(0)
    }

    fn latex_prec(&self, ctx: u8) -> String {
        let (s, p) = match self {
            Expr::Num(_, text) => (text.clone(), 5),
            Expr::Var(v) => (latex_name(v), 5),
            Expr::Neg(a) => (format!("-{}", a.latex_prec(3)), 3),
            Expr::Add(a, b) => (format!("{} + {}", a.latex_prec(1), b.latex_prec(1)), 1),
            Expr::Sub(a, b) => (format!("{} - {}", a.latex_prec(1), b.latex_prec(2)), 1),
            Expr::Mul(a, b) => (format!("{}\\, {}", a.latex_prec(2), b.latex_prec(2)), 2),
            Expr::Div(a, b) => (
                format!("\\frac{{{}}}{{{}}}", a.latex_prec(0), b.latex_prec(0)),
                5,
            ),
            Expr::Pow(a, b) => (format!("{}^{{{}}}", a.latex_prec(5), b.latex_prec(0)), 4),
            Expr::Call(f, args) => {
                let a: Vec<String> = args.iter().map(|a| a.latex_prec(0)).collect();
                let name = match f.as_str() {
                    "exp" | "log" | "sin" | "cos" | "tanh" => format!("\\{f}"),
                    "sqrt" => return wrap(format!("\\sqrt{{{}}}", a.join(", ")), 5, ctx),
                    other => format!("\\operatorname{{{other}}}"),
                };
                (format!("{name}\\left({}\\right)", a.join(", ")), 5)
            }
        };
        wrap(s, p, ctx)
    }
}

fn wrap(s: String, p: u8, ctx: u8) -> String {
    if p < ctx {
        format!("\\left({s}\\right)")
    } else {
        s
    }
}

/// `pi` → `\\pi`, `a1` → `a_{1}`, `alpha` → `\\alpha`.
fn latex_name(v: &str) -> String {
    const GREEK: [&str; 12] = [
        "alpha", "beta", "gamma", "delta", "epsilon", "kappa", "lambda", "mu", "nu", "pi", "sigma",
        "tau",
    ];
    let split = v.find(|c: char| c.is_ascii_digit()).unwrap_or(v.len());
    let (base, digits) = v.split_at(split);
    let base = if GREEK.contains(&base) {
        format!("\\{base}")
    } else if base.len() > 1 {
        format!("\\mathrm{{{}}}", base.replace('_', "\\_"))
    } else {
        base.to_string()
    };
    if digits.is_empty() {
        base
    } else {
        format!("{base}_{{{digits}}}")
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("^"))
    }
}

/// ln(1 + e^x) without overflow.
pub fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x + (-x).exp()
    } else {
        x.exp().ln_1p()
    }
}
