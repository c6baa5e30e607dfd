//! The one expression parser of specs and claims: an iterative precedence (shunting-yard / Pratt)
//! builder over the flat token sequence `prefix* primary (infix prefix* primary)*` that both pest
//! grammars produce, with an explicit depth limit.
//!
//! Precedence, loosest first: `+ -` (left), `* /` (left), unary `-`, `^` (right); so `-2^2` is
//! −(2²) and `a*-b*c` is (a·(−b))·c. Nothing here recurses on the length of an expression: a
//! 40,000-term sum, 20,000 minus signs or a long `^` chain is refused with a clear error once the
//! tree it would build is deeper than [`MAX_EXPR_DEPTH`], instead of overflowing the stack in
//! the parser or in any recursive pass over the tree later (evaluation, rendering, drop).
//! Bracket nesting is bounded before pest runs by [`check_nesting`].

pub use crate::budget::MAX_EXPR_DEPTH;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^` (right-associative)
    Pow,
}

impl BinOp {
    fn prec(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div => 2,
            BinOp::Pow => 4,
        }
    }
    fn right_assoc(self) -> bool {
        self == BinOp::Pow
    }
}

/// Unary minus binds between `* /` and `^`.
const NEG_PREC: u8 = 3;

/// One token of an expression; primaries come already built, with their tree depth.
pub enum Tok<T> {
    /// A unary minus.
    Neg,
    /// A binary operator.
    Bin(BinOp),
    /// An operand and its tree depth.
    Primary(T, usize),
}

/// A syntax tree the builder can assemble.
pub trait Tree: Sized {
    /// −a.
    fn neg(a: Self) -> Self;
    /// a op b.
    fn bin(op: BinOp, a: Self, b: Self) -> Self;
}

enum Pending {
    Neg,
    Bin(BinOp),
}

fn apply<T: Tree>(op: Pending, out: &mut Vec<(T, usize)>, max_depth: usize) -> Result<(), usize> {
    let (node, depth) = match op {
        Pending::Neg => {
            let (a, da) = out.pop().expect("an operand");
            (T::neg(a), da + 1)
        }
        Pending::Bin(o) => {
            let (b, db) = out.pop().expect("an operand");
            let (a, da) = out.pop().expect("an operand");
            (T::bin(o, a, b), da.max(db) + 1)
        }
    };
    if depth > max_depth {
        return Err(depth);
    }
    out.push((node, depth));
    Ok(())
}

/// Assemble a tree from tokens in source order. Returns the tree and its depth, or the depth at
/// which it went over `max_depth` (`Err(depth)`); the caller turns that into a located error.
pub fn build<T: Tree, E>(
    tokens: impl IntoIterator<Item = Result<Tok<T>, E>>,
    max_depth: usize,
    too_deep: impl Fn(usize) -> E,
) -> Result<(T, usize), E> {
    let mut out: Vec<(T, usize)> = Vec::new();
    let mut ops: Vec<Pending> = Vec::new();
    for t in tokens {
        match t? {
            Tok::Primary(p, d) => {
                if d > max_depth {
                    return Err(too_deep(d));
                }
                out.push((p, d));
            }
            Tok::Neg => ops.push(Pending::Neg),
            Tok::Bin(op) => {
                while let Some(top) = ops.last() {
                    let pop = match top {
                        Pending::Neg => {
                            NEG_PREC > op.prec() || (NEG_PREC == op.prec() && !op.right_assoc())
                        }
                        Pending::Bin(t) => {
                            t.prec() > op.prec() || (t.prec() == op.prec() && !op.right_assoc())
                        }
                    };
                    if !pop {
                        break;
                    }
                    let top = ops.pop().expect("an operator");
                    apply(top, &mut out, max_depth).map_err(&too_deep)?;
                }
                ops.push(Pending::Bin(op));
            }
        }
    }
    while let Some(top) = ops.pop() {
        apply(top, &mut out, max_depth).map_err(&too_deep)?;
    }
    let r = out.pop().expect("an expression has a primary");
    debug_assert!(out.is_empty());
    Ok(r)
}

/// Refuse bracket nesting deeper than [`MAX_EXPR_DEPTH`] before pest (which recurses on it)
/// runs. `comments`: `//` and `#` start comments (spec files). Returns the byte offset of the
/// first bracket over the limit.
pub fn check_nesting(text: &str, comments: bool) -> Result<(), usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' if comments => {
                // a string: to the closing quote or the end of the line
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' if comments => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if comments && b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_EXPR_DEPTH {
                    return Err(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree printed fully parenthesised.
    #[derive(Debug)]
    struct S(String);
    impl Tree for S {
        fn neg(a: S) -> S {
            S(format!("(-{})", a.0))
        }
        fn bin(op: BinOp, a: S, b: S) -> S {
            let o = match op {
                BinOp::Add => "+",
                BinOp::Sub => "-",
                BinOp::Mul => "*",
                BinOp::Div => "/",
                BinOp::Pow => "^",
            };
            S(format!("({}{o}{})", a.0, b.0))
        }
    }

    fn lex(s: &str) -> Vec<Result<Tok<S>, usize>> {
        // single-character tokens; `-` is unary at the start or after an operator
        let mut v = Vec::new();
        let mut prev_operand = false;
        for c in s.chars() {
            let t = match c {
                '+' => Tok::Bin(BinOp::Add),
                '-' if prev_operand => Tok::Bin(BinOp::Sub),
                '-' => Tok::Neg,
                '*' => Tok::Bin(BinOp::Mul),
                '/' => Tok::Bin(BinOp::Div),
                '^' => Tok::Bin(BinOp::Pow),
                c => Tok::Primary(S(c.to_string()), 0),
            };
            prev_operand = matches!(t, Tok::Primary(..));
            v.push(Ok(t));
        }
        v
    }

    fn p(s: &str) -> String {
        build(lex(s), 100, |d| d).unwrap().0 .0
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(p("a-b-c"), "((a-b)-c)");
        assert_eq!(p("a^b^c"), "(a^(b^c))");
        assert_eq!(p("-a^b"), "(-(a^b))");
        assert_eq!(p("a*-b*c"), "((a*(-b))*c)");
        assert_eq!(p("a+b*c^d/e"), "(a+((b*(c^d))/e))");
        assert_eq!(p("--a-b"), "((-(-a))-b)");
        assert_eq!(p("a^-b^c"), "(a^(-(b^c)))");
    }

    #[test]
    fn long_inputs_are_refused_not_overflowed() {
        let sum = vec!["a"; 40_000].join("+");
        assert_eq!(build(lex(&sum), 256, |d| d).unwrap_err(), 257);
        let negs = "-".repeat(20_000) + "a";
        assert!(build(lex(&negs), 256, |d| d).is_err());
        let pows = vec!["a"; 20_000].join("^");
        assert!(build(lex(&pows), 256, |d| d).is_err());
        assert!(check_nesting(&"(".repeat(100_000), true).is_err());
        assert!(check_nesting("# ((((\n(a)", true).is_ok());
    }
}
