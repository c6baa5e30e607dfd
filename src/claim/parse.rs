//! The claim language (grammar in `grammar/claim.pest`, documented in `book/src/check.md`):
//! pest parse into [`Claim`], spans kept for diagnostics.

use pest::iterators::Pair;
use pest::Parser;

use crate::budget::{MAX_CLAIM_INDEX, MAX_CLAIM_ORDER};
use crate::dsl::pratt::{self, BinOp, Tok, MAX_EXPR_DEPTH};
use crate::dsl::Span;
use crate::error::SpecError;
use grammar::{ClaimParser, Rule};

/// The pest parser of `grammar/claim.pest`; private, so its generated `Rule` enum is no public API.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/claim.pest"]
    pub struct ClaimParser;
}

/// Which quantity the left side names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LhsKind {
    /// ∂^α y (no 1/α!).
    Derivative,
    /// The Taylor coefficient c_α = ∂^α y / α!.
    Taylor,
}

/// The left side: a derivative or Taylor coefficient of one output at a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Lhs {
    /// Derivative or Taylor coefficient.
    pub kind: LhsKind,
    /// 0-based output.
    pub output: usize,
    /// Exponent of each input (1-based input i is `alpha[i-1]`); trailing zeros may be missing.
    pub alpha: Vec<u32>,
    /// The expansion point as written (None: the origin; one value: every coordinate).
    pub at: Option<Vec<f64>>,
    /// Source range in the claim text.
    pub span: Span,
}

impl Lhs {
    /// |α|.
    pub fn order(&self) -> usize {
        self.alpha.iter().map(|&a| a as usize).sum()
    }
}

/// A neuron index of a parameter: a number (1-based) or a summation variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Index {
    /// A number, 1-based as written.
    Lit(usize),
    /// A summation variable.
    Var(String),
}

/// The right side's expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A number with its source text (for exact rational readings).
    Num(f64, String),
    /// A bare name: a point coordinate `x1`, or `pi`.
    Var(String, Span),
    /// `W2[1,j]`, `b1[j]`.
    Param(String, Vec<Index>, Span),
    /// −a.
    Neg(Box<Term>),
    /// a + b.
    Add(Box<Term>, Box<Term>),
    /// a − b.
    Sub(Box<Term>, Box<Term>),
    /// a · b.
    Mul(Box<Term>, Box<Term>),
    /// a / b.
    Div(Box<Term>, Box<Term>),
    /// a ^ b.
    Pow(Box<Term>, Box<Term>),
    /// `name(args)`; `primes` counts trailing `'` (`sigma''(u)`).
    Call(String, usize, Vec<Term>, Span),
    /// `sum(j, body)`.
    Sum(String, Box<Term>, Span),
}

/// One claim `LHS = RHS`, with the text it came from (for diagnostics).
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The left side.
    pub lhs: Lhs,
    /// The right side.
    pub rhs: Term,
    /// Where it came from: `--claim` or `FILE:LINE`.
    pub origin: String,
    /// The claim as written.
    pub text: String,
}

impl Claim {
    /// A diagnostic at `span` of this claim's text.
    pub fn error(&self, span: Span, message: impl Into<String>, help: Option<String>) -> SpecError {
        SpecError::new(&self.origin, &self.text, span, message.into(), help)
    }
}

fn span_of(p: &Pair<Rule>) -> Span {
    (p.as_span().start(), p.as_span().end())
}

/// Parse one claim. `origin` names it in diagnostics (`--claim`, `claims.txt:3`).
pub fn parse_claim(origin: &str, text: &str) -> Result<Claim, Box<SpecError>> {
    let err = |span: Span, msg: String, help: Option<String>| {
        Box::new(SpecError::new(origin, text, span, msg, help))
    };
    if let Err(at) = pratt::check_nesting(text, false) {
        return Err(err(
            (at, at + 1),
            format!("brackets nest more than {MAX_EXPR_DEPTH} levels deep"),
            None,
        ));
    }
    let mut pairs = ClaimParser::parse(Rule::claim, text).map_err(|e| {
        let (span, msg) = pest_message(text, e);
        err(span, msg, Some("a claim reads `d2y/dx1dx2 at x=0 = sum(j, W2[1,j]*d2tanh(b1[j])*W1[j,1]*W1[j,2])` or `taylor(y, [0,2]) = ...` (book/src/check.md)".into()))
    })?;
    let mut it = pairs.next().expect("claim rule").into_inner();
    let lhs_pair = it.next().expect("lhs");
    let lhs = build_lhs(lhs_pair).map_err(|(s, m)| err(s, m, None))?;
    let rhs = build_expr(it.next().expect("rhs"), 0)
        .map_err(|(s, m)| err(s, m, None))?
        .0;
    Ok(Claim {
        lhs,
        rhs,
        origin: origin.to_string(),
        text: text.to_string(),
    })
}

fn int(p: Pair<Rule>) -> Result<usize, (Span, String)> {
    p.as_str()
        .parse()
        .map_err(|_| (span_of(&p), format!("`{}` is too large", p.as_str())))
}

fn build_output(p: Pair<Rule>) -> Result<usize, (Span, String)> {
    let span = span_of(&p);
    match p.into_inner().next() {
        None => Ok(0),
        Some(i) => match int(i)? {
            0 => Err((span, "outputs are numbered from 1".into())),
            k if k > MAX_CLAIM_INDEX => Err((
                span,
                format!(
                    "output {k} is beyond the largest index a claim may use ({MAX_CLAIM_INDEX})"
                ),
            )),
            k => Ok(k - 1),
        },
    }
}

fn build_lhs(p: Pair<Rule>) -> Result<Lhs, (Span, String)> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let what = it.next().expect("derivative or taylor");
    let at = match it.next() {
        Some(a) => {
            let point = a.into_inner().next().expect("point");
            let vals: Result<Vec<f64>, _> = point
                .into_inner()
                .map(|s| {
                    s.as_str()
                        .parse::<f64>()
                        .map_err(|_| (span_of(&s), format!("`{}` is not a number", s.as_str())))
                })
                .collect();
            Some(vals?)
        }
        None => None,
    };
    let mut alpha: Vec<u32> = Vec::new();
    let mut total: usize = 0;
    let mut bump = |i: usize, by: usize, s: Span| -> Result<(), (Span, String)> {
        if i == 0 {
            return Err((s, "inputs are numbered from 1 (x1, x2, …)".into()));
        }
        if i > MAX_CLAIM_INDEX {
            return Err((
                s,
                format!(
                    "input {i} is beyond the largest index a claim may use ({MAX_CLAIM_INDEX})"
                ),
            ));
        }
        total = total.saturating_add(by);
        if total > MAX_CLAIM_ORDER {
            return Err((
                s,
                format!(
                    "the derivative order exceeds {MAX_CLAIM_ORDER}, the largest a claim may have"
                ),
            ));
        }
        if alpha.len() < i {
            alpha.resize(i, 0);
        }
        alpha[i - 1] += by as u32;
        Ok(())
    };
    let (kind, output) = match what.as_rule() {
        Rule::derivative => {
            let wspan = span_of(&what);
            let mut stated: Option<usize> = None;
            let mut output = 0;
            for q in what.into_inner() {
                match q.as_rule() {
                    Rule::integer => stated = Some(int(q)?),
                    Rule::output => output = build_output(q)?,
                    Rule::dx => {
                        let s = span_of(&q);
                        let mut d = q.into_inner();
                        let i = int(d.next().unwrap())?;
                        let pw = match d.next() {
                            Some(e) => int(e)?,
                            None => 1,
                        };
                        bump(i, pw, s)?;
                    }
                    r => unreachable!("unexpected {r:?}"),
                }
            }
            let n: usize = alpha.iter().map(|&a| a as usize).sum();
            if stated.is_some_and(|s| s != n) || (stated.is_none() && n != 1) {
                return Err((
                    wspan,
                    format!(
                        "the derivative's order ({}) does not match its {n} dx's",
                        stated.map_or("1".into(), |s| s.to_string())
                    ),
                ));
            }
            (LhsKind::Derivative, output)
        }
        Rule::taylor => {
            let mut q = what.into_inner();
            let output = build_output(q.next().unwrap())?;
            for (i, e) in q.enumerate() {
                let s = span_of(&e);
                let pw = int(e)?;
                bump(i + 1, pw, s)?;
            }
            (LhsKind::Taylor, output)
        }
        r => unreachable!("unexpected {r:?}"),
    };
    Ok(Lhs {
        kind,
        output,
        alpha,
        at,
        span,
    })
}

impl pratt::Tree for Term {
    fn neg(a: Term) -> Term {
        Term::Neg(Box::new(a))
    }
    fn bin(op: BinOp, a: Term, b: Term) -> Term {
        let (l, r) = (Box::new(a), Box::new(b));
        match op {
            BinOp::Add => Term::Add(l, r),
            BinOp::Sub => Term::Sub(l, r),
            BinOp::Mul => Term::Mul(l, r),
            BinOp::Div => Term::Div(l, r),
            BinOp::Pow => Term::Pow(l, r),
        }
    }
}

type Located = (Span, String);

/// The right side, through the expression builder shared with specs ([`pratt::build`]).
fn build_expr(p: Pair<Rule>, base: usize) -> Result<(Term, usize), Located> {
    let span = span_of(&p);
    let too_deep = |d: usize| {
        (
            span,
            format!("this expression nests {d} levels deep; the limit is {MAX_EXPR_DEPTH}"),
        )
    };
    if base > MAX_EXPR_DEPTH {
        return Err(too_deep(base));
    }
    let tokens = p.into_inner().map(|q| -> Result<Tok<Term>, Located> {
        let span = span_of(&q);
        Ok(match q.as_rule() {
            Rule::neg => Tok::Neg,
            Rule::add => Tok::Bin(BinOp::Add),
            Rule::sub => Tok::Bin(BinOp::Sub),
            Rule::mul => Tok::Bin(BinOp::Mul),
            Rule::div => Tok::Bin(BinOp::Div),
            Rule::pow => Tok::Bin(BinOp::Pow),
            Rule::number => {
                let v: f64 = q.as_str().parse().unwrap_or(f64::NAN);
                if !v.is_finite() {
                    return Err((span, format!("the number `{}` is out of range", q.as_str())));
                }
                Tok::Primary(Term::Num(v, q.as_str().to_string()), 0)
            }
            Rule::ident => Tok::Primary(Term::Var(q.as_str().to_string(), span), 0),
            Rule::expr => {
                let (t, d) = build_expr(q, base + 1)?;
                Tok::Primary(t, d)
            }
            Rule::call => {
                let mut it = q.into_inner();
                let f = it.next().unwrap().as_str();
                let name = f.trim_end_matches('\'');
                let primes = f.len() - name.len();
                let mut args = Vec::new();
                let mut depth = 0;
                for a in it {
                    let (t, d) = build_expr(a, base + 1)?;
                    depth = depth.max(d + 1);
                    args.push(t);
                }
                if name == "sum" && primes == 0 {
                    let mut args = args.into_iter();
                    match (args.next(), args.next(), args.next()) {
                        (Some(Term::Var(j, _)), Some(body), None) => {
                            Tok::Primary(Term::Sum(j, Box::new(body), span), depth)
                        }
                        _ => {
                            return Err((
                                span,
                                "a sum reads `sum(j, body)`: an index name, then the summand"
                                    .into(),
                            ))
                        }
                    }
                } else {
                    Tok::Primary(Term::Call(name.to_string(), primes, args, span), depth)
                }
            }
            Rule::indexed => {
                let mut it = q.into_inner();
                let name = it.next().unwrap().as_str().to_string();
                let mut idx = Vec::new();
                for i in it {
                    let v = i.into_inner().next().unwrap();
                    idx.push(match v.as_rule() {
                        Rule::integer => Index::Lit(
                            v.as_str()
                                .parse()
                                .ok()
                                .filter(|&k: &usize| k <= MAX_CLAIM_INDEX)
                                .ok_or_else(|| {
                                    (
                                        span_of(&v),
                                        format!(
                                            "the index `{}` is beyond the largest a claim may use ({MAX_CLAIM_INDEX})",
                                            v.as_str()
                                        ),
                                    )
                                })?,
                        ),
                        _ => Index::Var(v.as_str().to_string()),
                    });
                }
                Tok::Primary(Term::Param(name, idx, span), 0)
            }
            r => unreachable!("unexpected token {r:?}"),
        })
    });
    pratt::build(tokens, MAX_EXPR_DEPTH, too_deep)
}

fn rule_name(r: &Rule) -> &'static str {
    match r {
        Rule::EOI => "the end of the claim",
        Rule::ident | Rule::fname => "a name",
        Rule::integer => "a whole number",
        Rule::number | Rule::signed => "a number",
        Rule::expr | Rule::call | Rule::indexed => "an expression",
        Rule::lhs | Rule::derivative | Rule::taylor => {
            "a derivative `d2y/dx1dx2` or a coefficient `taylor(y, [1,1])`"
        }
        Rule::dx => "`dx1`",
        Rule::output => "`y`",
        Rule::at => "`at x=...`",
        Rule::point => "a point: `0` or `(0.1, 0.2)`",
        Rule::index => "an index (a number or a summation variable)",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::pow => "an operator",
        _ => "something else",
    }
}

fn pest_message(text: &str, e: pest::error::Error<Rule>) -> (Span, String) {
    crate::dsl::pest_error::span_and_message(text.len(), &e, |r| rule_name(r).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_and_taylor_left_sides() {
        let c = parse_claim("t", "d3y/dx1^2dx3 at x=(0.5,-1,2) = 0").unwrap();
        assert_eq!(c.lhs.kind, LhsKind::Derivative);
        assert_eq!(c.lhs.alpha, vec![2, 0, 1]);
        assert_eq!(c.lhs.at, Some(vec![0.5, -1.0, 2.0]));
        let c = parse_claim("t", "taylor(y[2], [0,2]) = 1").unwrap();
        assert_eq!((c.lhs.kind, c.lhs.output), (LhsKind::Taylor, 1));
        assert_eq!(c.lhs.alpha, vec![0, 2]);
        let c = parse_claim("t", "dy/dx2 = sum(j, W2[1,j]*tanh'(b1[j])*W1[j,2])").unwrap();
        assert_eq!(c.lhs.alpha, vec![0, 1]);
        let Term::Sum(j, body, _) = c.rhs else {
            panic!("a sum")
        };
        assert_eq!(j, "j");
        assert!(matches!(*body, Term::Mul(..)));
    }

    #[test]
    fn order_mismatch_and_syntax_errors_point_at_the_span() {
        let e = parse_claim("c", "d3y/dx1dx2 = 0").unwrap_err();
        assert!(e.message.contains("does not match"), "{}", e.message);
        let e = parse_claim("c", "d2y/dx1dx2 = W1[j,").unwrap_err();
        assert_eq!(e.location, "c:1:19");
        assert!(parse_claim("c", "d2y/dx0dx1 = 0").is_err());
    }
}
