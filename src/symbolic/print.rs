//! Printing of expanded closed forms as Text, SymPy and Mathematica (Symbolica thread only).
//!
//! A small printer over Symbolica's public expression views. Symbolica's own printer is used
//! for LaTeX; for the other styles this one is used because (i) the names must follow each
//! target language (Mathematica has no `_` in symbols, SymPy no `sigmoid`), and (ii) Symbolica
//! 3.0.0's text/SymPy/Mathematica printers drop the parentheses of some denominators in
//! unexpanded products (`e^(-x^2)/2*𝜋` for e^(-x^2)/(2π)).

use std::collections::HashMap;

use symbolica::atom::{Atom, AtomCore, AtomView, Symbol};
use symbolica::coefficient::CoefficientView;
use symbolica::printer::PrintOptions;

use super::syms::{self, Special};
use super::Style;

// precedence: sum < product < unary minus < power < atom
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const NEG: u8 = 3;
const POWER: u8 = 4;
const ATOM: u8 = 5;

/// Prints many expressions of one style. Writes into one buffer per expression (no string per
/// sub-expression) and remembers every printed function call with a compound argument: the
/// expanded closed forms repeat the same nested pre-activations (`dsigma(2, 1, W2_1_1*…)`) in
/// every term of every coefficient, and printing them once made printing ~3× faster.
pub struct Printer {
    style: Style,
    calls: HashMap<Atom, String>,
}

fn rational(v: AtomView<'_>) -> Option<(String, String)> {
    let AtomView::Num(n) = v else { return None };
    match n.get_coeff_view() {
        CoefficientView::Natural(p, q, 0, _) => Some((p.to_string(), q.to_string())),
        CoefficientView::Large(..) => {
            let s = n.as_view().to_owned().to_canonical_string();
            Some(match s.split_once('/') {
                Some((p, q)) => (p.to_string(), q.to_string()),
                None => (s, "1".into()),
            })
        }
        _ => None,
    }
}

/// Whether a number is a negative rational (without formatting it).
fn negative_rational(v: AtomView<'_>) -> bool {
    let AtomView::Num(n) = v else { return false };
    match n.get_coeff_view() {
        CoefficientView::Natural(p, _, 0, _) => p < 0,
        CoefficientView::Large(..) => rational(v).is_some_and(|(p, _)| p.starts_with('-')),
        _ => false,
    }
}

fn is_e(v: AtomView<'_>) -> bool {
    matches!(v, AtomView::Var(b) if b.get_symbol() == Symbol::E)
}

/// A power that prints as a denominator: a negative rational exponent, base other than e.
fn is_denominator(v: AtomView<'_>) -> bool {
    match v {
        AtomView::Pow(p) => {
            let (base, exp) = p.get_base_exp();
            negative_rational(exp) && !is_e(base)
        }
        _ => false,
    }
}

/// The precedence of the text `expr` writes for `v`.
fn precedence(v: AtomView<'_>) -> u8 {
    match v {
        AtomView::Num(_) => match rational(v) {
            Some((p, _)) if p.starts_with('-') => NEG,
            Some((_, q)) if q != "1" => PRODUCT,
            _ => ATOM,
        },
        AtomView::Var(_) | AtomView::Fun(_) => ATOM,
        AtomView::Pow(p) => {
            let (base, _) = p.get_base_exp();
            if is_denominator(v) {
                PRODUCT
            } else if is_e(base) {
                ATOM
            } else {
                POWER
            }
        }
        AtomView::Mul(m) => {
            if m.iter().any(negative_rational) {
                NEG
            } else {
                PRODUCT
            }
        }
        AtomView::Add(_) => SUM,
    }
}

impl Printer {
    /// A printer for `style` (Text, SymPy/Json or Mathematica; LaTeX goes through [`print`]).
    pub fn new(style: Style) -> Self {
        Printer {
            style,
            calls: HashMap::new(),
        }
    }

    /// `a` in this printer's style.
    pub fn print(&mut self, a: &Atom) -> String {
        if self.style == Style::Latex {
            return print(a, Style::Latex);
        }
        let mut out = String::new();
        syms::special(|sp| self.expr(sp, a.as_view(), &mut out));
        out
    }

    fn pow_op(&self) -> &'static str {
        match self.style {
            Style::Sympy | Style::Json => "**",
            _ => "^",
        }
    }
    fn times(&self) -> &'static str {
        match self.style {
            Style::Mathematica => " ",
            _ => "*",
        }
    }
    fn call(&self, f: &str, args: &[String], out: &mut String) {
        let (open, close) = match self.style {
            Style::Mathematica => ('[', ']'),
            _ => ('(', ')'),
        };
        out.push_str(f);
        out.push(open);
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(a);
        }
        out.push(close);
    }

    /// `v` in parentheses if it binds weaker than `ctx`.
    fn paren(&mut self, sp: &Special, v: AtomView<'_>, ctx: u8, out: &mut String) {
        if precedence(v) < ctx {
            out.push('(');
            self.expr(sp, v, out);
            out.push(')');
        } else {
            self.expr(sp, v, out);
        }
    }

    fn string_of(&mut self, sp: &Special, v: AtomView<'_>) -> String {
        let mut s = String::new();
        self.expr(sp, v, &mut s);
        s
    }

    fn num(&self, v: AtomView<'_>, out: &mut String) {
        match rational(v) {
            Some((p, q)) => {
                out.push_str(&p);
                if q != "1" {
                    out.push('/');
                    out.push_str(&q);
                }
            }
            None => out.push_str(&v.to_owned().to_canonical_string()),
        }
    }

    fn var(&self, s: Symbol, out: &mut String) {
        if s == Symbol::PI {
            out.push_str(if self.style == Style::Mathematica {
                "Pi"
            } else {
                "pi"
            });
            return;
        }
        if s == Symbol::E {
            out.push_str(match self.style {
                Style::Text => "exp(1)",
                _ => "E",
            });
            return;
        }
        if self.style == Style::Mathematica {
            if let Some(name) = syms::mathematica_name(s) {
                out.push_str(&name);
                return;
            }
        }
        out.push_str(s.get_stripped_name());
    }

    fn fun(&mut self, sp: &Special, v: AtomView<'_>, out: &mut String) {
        let AtomView::Fun(f) = v else { unreachable!() };
        // only calls with a compound argument are worth a lookup
        let compound = f
            .iter()
            .any(|a| matches!(a, AtomView::Add(_) | AtomView::Mul(_) | AtomView::Fun(_)));
        if !compound {
            return self.fun_uncached(sp, v, out);
        }
        let key = v.to_owned();
        if let Some(s) = self.calls.get(&key) {
            out.push_str(s);
            return;
        }
        let start = out.len();
        self.fun_uncached(sp, v, out);
        self.calls.insert(key, out[start..].to_string());
    }

    fn fun_uncached(&mut self, sp: &Special, v: AtomView<'_>, out: &mut String) {
        let AtomView::Fun(f) = v else { unreachable!() };
        let s = f.get_symbol();
        let args: Vec<String> = f.iter().map(|a| self.string_of(sp, a)).collect();
        let mma = self.style == Style::Mathematica;
        if s == sp.sigmoid {
            match self.style {
                Style::Sympy | Style::Json => {
                    out.push_str("(1/(1 + exp(-");
                    self.paren(sp, f.get(0), POWER, out);
                    out.push_str(")))");
                }
                Style::Mathematica => self.call("LogisticSigmoid", &args, out),
                _ => self.call("sigmoid", &args, out),
            }
            return;
        }
        if s == sp.softplus {
            match self.style {
                Style::Sympy | Style::Json => out.push_str(&format!("log(1 + exp({}))", args[0])),
                Style::Mathematica => out.push_str(&format!("Log[1 + Exp[{}]]", args[0])),
                _ => self.call("softplus", &args, out),
            }
            return;
        }
        if s == sp.dsigma && mma && args.len() == 3 {
            out.push_str(&if args[1] == "0" {
                format!("sigma{}[{}]", args[0], args[2])
            } else {
                format!("Derivative[{}][sigma{}][{}]", args[1], args[0], args[2])
            });
            return;
        }
        let name = s.get_stripped_name();
        let name = if mma {
            match name {
                "exp" => "Exp",
                "log" => "Log",
                "sin" => "Sin",
                "cos" => "Cos",
                "sqrt" => "Sqrt",
                "tanh" => "Tanh",
                "sinh" => "Sinh",
                "cosh" => "Cosh",
                "sech" => "Sech",
                "erf" => "Erf",
                "abs" => "Abs",
                other => other,
            }
        } else {
            name
        };
        self.call(name, &args, out)
    }

    /// base^exp with exp ≥ 0 or symbolic (negative numeric exponents go to denominators).
    fn power(&mut self, sp: &Special, base: AtomView<'_>, exp: AtomView<'_>, out: &mut String) {
        if is_e(base) {
            out.push_str(if self.style == Style::Mathematica {
                "Exp["
            } else {
                "exp("
            });
            self.expr(sp, exp, out);
            out.push(if self.style == Style::Mathematica {
                ']'
            } else {
                ')'
            });
            return;
        }
        self.paren(sp, base, ATOM, out);
        out.push_str(self.pow_op());
        self.paren(sp, exp, ATOM, out);
    }

    fn product<'a>(
        &mut self,
        sp: &Special,
        factors: impl Iterator<Item = AtomView<'a>>,
        out: &mut String,
    ) {
        let mut coeff: Option<(String, String)> = None;
        let mut num: Vec<AtomView<'a>> = Vec::new();
        let mut den: Vec<String> = Vec::new();
        for f in factors {
            if let Some(r) = rational(f) {
                coeff = Some(r);
                continue;
            }
            if is_denominator(f) {
                let AtomView::Pow(p) = f else { unreachable!() };
                let (base, exp) = p.get_base_exp();
                let (ep, eq) = rational(exp).unwrap();
                let ep = ep.trim_start_matches('-');
                let mut b = String::new();
                self.paren(sp, base, ATOM, &mut b);
                let pos = if eq == "1" {
                    ep.to_string()
                } else {
                    format!("({ep}/{eq})")
                };
                if pos != "1" {
                    b.push_str(self.pow_op());
                    b.push_str(&pos);
                }
                den.push(b);
                continue;
            }
            num.push(f);
        }
        let mut lead = None;
        if let Some((p, q)) = coeff {
            if let Some(abs) = p.strip_prefix('-') {
                out.push('-');
                lead = Some(abs.to_string());
            } else {
                lead = Some(p);
            }
            if q != "1" {
                den.insert(0, q);
            }
            if lead.as_deref() == Some("1") && !num.is_empty() {
                lead = None;
            }
        }
        let mut first = true;
        if let Some(l) = lead {
            out.push_str(&l);
            first = false;
        }
        for f in num {
            if !first {
                out.push_str(self.times());
            }
            first = false;
            self.paren(sp, f, PRODUCT + 1, out);
        }
        if first {
            out.push('1');
        }
        if !den.is_empty() {
            out.push('/');
            if den.len() == 1 && !den[0].contains(self.times()) && !den[0].contains(self.pow_op()) {
                out.push_str(&den[0]);
            } else {
                out.push('(');
                out.push_str(&den.join(self.times()));
                out.push(')');
            }
        }
    }

    fn expr(&mut self, sp: &Special, v: AtomView<'_>, out: &mut String) {
        match v {
            AtomView::Num(_) => self.num(v, out),
            AtomView::Var(x) => self.var(x.get_symbol(), out),
            AtomView::Fun(_) => self.fun(sp, v, out),
            AtomView::Pow(p) => {
                if is_denominator(v) {
                    self.product(sp, std::iter::once(v), out)
                } else {
                    let (base, exp) = p.get_base_exp();
                    self.power(sp, base, exp, out)
                }
            }
            AtomView::Mul(m) => self.product(sp, m.iter(), out),
            AtomView::Add(a) => {
                for (i, t) in a.iter().enumerate() {
                    let at = out.len();
                    self.expr(sp, t, out);
                    if i > 0 {
                        // the term's own sign becomes the operator
                        if out.as_bytes()[at] == b'-' {
                            out.replace_range(at..at + 1, " - ");
                        } else {
                            out.insert_str(at, " + ");
                        }
                    }
                }
            }
        }
    }
}

/// Print an expression in a style: LaTeX with Symbolica's printer, the others with
/// [`print_view`].
pub fn print(a: &Atom, style: Style) -> String {
    match style {
        Style::Latex => latex_functions(
            &a.printer(PrintOptions {
                hide_all_namespaces: true,
                max_line_length: None,
                ..PrintOptions::latex()
            })
            .to_string(),
        ),
        _ => Printer::new(style).print(a),
    }
}

/// Symbolica prints functions it has no LaTeX name for verbatim (`tanh\!\left(`); give them one.
fn latex_functions(s: &str) -> String {
    let mut out = s.to_string();
    for (f, tex) in [
        ("tanh", "\\tanh"),
        ("sinh", "\\sinh"),
        ("cosh", "\\cosh"),
        ("sech", "\\operatorname{sech}"),
        ("erf", "\\operatorname{erf}"),
    ] {
        let pat = format!("{f}\\!\\left(");
        let mut res = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(pos) = rest.find(&pat) {
            let before = &rest[..pos];
            let escaped = before.ends_with('\\')
                || before
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphabetic());
            res.push_str(before);
            if escaped {
                res.push_str(&pat);
            } else {
                res.push_str(tex);
                res.push_str("\\!\\left(");
            }
            rest = &rest[pos + pat.len()..];
        }
        res.push_str(rest);
        out = res;
    }
    out
}
