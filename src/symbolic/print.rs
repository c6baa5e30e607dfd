//! Printing of expanded closed forms as Text, SymPy and Mathematica (Symbolica thread only).
//!
//! A small printer over Symbolica's public expression views. Symbolica's own printer is used
//! for LaTeX; for the other styles this one is used because (i) the names must follow each
//! target language (Mathematica has no `_` in symbols, SymPy no `sigmoid`), and (ii) Symbolica
//! 3.0.0's text/SymPy/Mathematica printers drop the parentheses of some denominators in
//! unexpanded products (`e^(-x^2)/2*𝜋` for e^(-x^2)/(2π)).

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

struct Printer<'s> {
    style: Style,
    sp: &'s Special,
}

fn paren(s: (String, u8), ctx: u8) -> String {
    if s.1 < ctx {
        format!("({})", s.0)
    } else {
        s.0
    }
}

/// A rational (p, q) as text; None for other number kinds.
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

impl Printer<'_> {
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
    fn call(&self, f: &str, args: &[String]) -> String {
        match self.style {
            Style::Mathematica => format!("{f}[{}]", args.join(", ")),
            _ => format!("{f}({})", args.join(", ")),
        }
    }

    fn num(&self, v: AtomView<'_>) -> (String, u8) {
        match rational(v) {
            Some((p, q)) => {
                let neg = p.starts_with('-');
                let s = if q == "1" { p } else { format!("{p}/{q}") };
                let prec = if neg {
                    NEG
                } else if s.contains('/') {
                    PRODUCT
                } else {
                    ATOM
                };
                (s, prec)
            }
            None => (v.to_owned().to_canonical_string(), ATOM),
        }
    }

    fn var(&self, s: Symbol) -> String {
        if s == Symbol::PI {
            return if self.style == Style::Mathematica {
                "Pi".into()
            } else {
                "pi".into()
            };
        }
        if s == Symbol::E {
            return match self.style {
                Style::Text => "exp(1)".into(),
                _ => "E".into(),
            };
        }
        if self.style == Style::Mathematica {
            if let Some(name) = syms::mathematica_name(s) {
                return name;
            }
        }
        s.get_stripped_name().to_string()
    }

    fn fun(&self, v: AtomView<'_>) -> String {
        let AtomView::Fun(f) = v else { unreachable!() };
        let s = f.get_symbol();
        let args: Vec<String> = f.iter().map(|a| self.expr(a).0).collect();
        let mma = self.style == Style::Mathematica;
        if s == self.sp.sigmoid {
            return match self.style {
                Style::Sympy | Style::Json => {
                    format!("(1/(1 + exp(-{})))", paren(self.expr(f.get(0)), POWER))
                }
                Style::Mathematica => self.call("LogisticSigmoid", &args),
                _ => self.call("sigmoid", &args),
            };
        }
        if s == self.sp.softplus {
            return match self.style {
                Style::Sympy | Style::Json => format!("log(1 + exp({}))", args[0]),
                Style::Mathematica => format!("Log[1 + Exp[{}]]", args[0]),
                _ => self.call("softplus", &args),
            };
        }
        if s == self.sp.dsigma && mma && args.len() == 3 {
            return if args[1] == "0" {
                format!("sigma{}[{}]", args[0], args[2])
            } else {
                format!("Derivative[{}][sigma{}][{}]", args[1], args[0], args[2])
            };
        }
        let name = s.get_stripped_name();
        let name = if mma {
            match name {
                "exp" => "Exp".to_string(),
                "log" => "Log".into(),
                "sin" => "Sin".into(),
                "cos" => "Cos".into(),
                "sqrt" => "Sqrt".into(),
                "tanh" => "Tanh".into(),
                "sinh" => "Sinh".into(),
                "cosh" => "Cosh".into(),
                "sech" => "Sech".into(),
                "erf" => "Erf".into(),
                "abs" => "Abs".into(),
                other => other.to_string(),
            }
        } else {
            name.to_string()
        };
        self.call(&name, &args)
    }

    /// base^exp with exp ≥ 0 or symbolic (negative numeric exponents go to denominators).
    fn power(&self, base: AtomView<'_>, exp: AtomView<'_>) -> (String, u8) {
        if let AtomView::Var(b) = base {
            if b.get_symbol() == Symbol::E {
                let e = self.expr(exp).0;
                return (
                    if self.style == Style::Mathematica {
                        format!("Exp[{e}]")
                    } else {
                        format!("exp({e})")
                    },
                    ATOM,
                );
            }
        }
        let b = paren(self.expr(base), ATOM);
        let e = self.expr(exp);
        let e = if e.1 == ATOM {
            e.0
        } else {
            format!("({})", e.0)
        };
        (format!("{b}{}{e}", self.pow_op()), POWER)
    }

    /// A negative numeric exponent, as its absolute value.
    fn negative_exponent(exp: AtomView<'_>) -> Option<AtomView<'_>> {
        let (p, _) = rational(exp)?;
        p.starts_with('-').then_some(exp)
    }

    fn product(&self, factors: Vec<AtomView<'_>>) -> (String, u8) {
        let mut coeff: Option<(String, String)> = None;
        let mut num: Vec<String> = Vec::new();
        let mut den: Vec<String> = Vec::new();
        for f in factors {
            if let Some(r) = rational(f) {
                coeff = Some(r);
                continue;
            }
            if let AtomView::Pow(p) = f {
                let (base, exp) = p.get_base_exp();
                if let Some(e) = Self::negative_exponent(exp) {
                    let (ep, eq) = rational(e).unwrap();
                    let ep = ep.trim_start_matches('-').to_string();
                    let is_e = matches!(base, AtomView::Var(b) if b.get_symbol() == Symbol::E);
                    if !is_e {
                        let b = paren(self.expr(base), ATOM);
                        let pos = if eq == "1" {
                            ep
                        } else {
                            format!("({ep}/{eq})")
                        };
                        den.push(if pos == "1" {
                            b
                        } else {
                            format!("{b}{}{pos}", self.pow_op())
                        });
                        continue;
                    }
                }
            }
            num.push(paren(self.expr(f), PRODUCT + 1));
        }
        let (mut neg, mut lead) = (false, None);
        if let Some((p, q)) = coeff {
            neg = p.starts_with('-');
            let p = p.trim_start_matches('-').to_string();
            if q != "1" {
                den.insert(0, q);
            }
            if p != "1" || num.is_empty() {
                lead = Some(p);
            }
        }
        let mut parts: Vec<String> = lead.into_iter().collect();
        parts.extend(num);
        let mut s = if parts.is_empty() {
            "1".to_string()
        } else {
            parts.join(self.times())
        };
        if !den.is_empty() {
            let d = if den.len() == 1
                && !den[0].contains(self.times())
                && !den[0].contains(self.pow_op())
            {
                den[0].clone()
            } else {
                format!("({})", den.join(self.times()))
            };
            s = format!("{s}/{d}");
        }
        if neg {
            (format!("-{s}"), NEG)
        } else {
            (s, PRODUCT)
        }
    }

    fn expr(&self, v: AtomView<'_>) -> (String, u8) {
        match v {
            AtomView::Num(_) => self.num(v),
            AtomView::Var(x) => (self.var(x.get_symbol()), ATOM),
            AtomView::Fun(_) => (self.fun(v), ATOM),
            AtomView::Pow(p) => {
                let (base, exp) = p.get_base_exp();
                if Self::negative_exponent(exp).is_some()
                    && !matches!(base, AtomView::Var(b) if b.get_symbol() == Symbol::E)
                {
                    self.product(vec![v])
                } else {
                    self.power(base, exp)
                }
            }
            AtomView::Mul(m) => self.product(m.iter().collect()),
            AtomView::Add(a) => {
                let mut s = String::new();
                for (i, t) in a.iter().enumerate() {
                    let (ts, _) = self.expr(t);
                    match (i, ts.strip_prefix('-')) {
                        (0, _) => s += &ts,
                        (_, Some(rest)) => {
                            s += " - ";
                            s += rest;
                        }
                        (_, None) => {
                            s += " + ";
                            s += &ts;
                        }
                    }
                }
                (s, SUM)
            }
        }
    }
}

/// Print in Text, SymPy (Json) or Mathematica syntax.
fn print_view(v: AtomView<'_>, style: Style) -> String {
    syms::special(|sp| Printer { style, sp }.expr(v).0)
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
        _ => print_view(a.as_view(), style),
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
