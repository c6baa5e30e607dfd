use pest::iterators::Pair;
use pest::Parser;
use pest_derive::Parser;

use super::pratt::{self, BinOp, Tok, MAX_EXPR_DEPTH};
use super::*;
use crate::error::SpecError;

#[derive(Parser)]
#[grammar = "../grammar/feynn.pest"]
struct SpecParser;

fn span_of(p: &Pair<Rule>) -> Span {
    (p.as_span().start(), p.as_span().end())
}

/// Parse spec text. `path` is used in diagnostics only.
pub fn parse_spec(path: &str, source: &str) -> Result<SpecFile, SpecError> {
    let mut file = SpecFile {
        path: path.to_string(),
        source: source.to_string(),
        activations: vec![],
        lets: vec![],
        models: vec![],
        inns: vec![],
        efnns: vec![],
    };
    if let Err(at) = pratt::check_nesting(source, true) {
        return Err(file.error(
            (at, at + 1),
            format!("brackets nest more than {MAX_EXPR_DEPTH} levels deep"),
            Some("close the brackets, or split the expression with `let` constants".into()),
        ));
    }
    let pairs = SpecParser::parse(Rule::file, source).map_err(|e| pest_error(&file, e))?;
    let top = pairs.into_iter().next().expect("file rule");
    for item in top.into_inner() {
        match item.as_rule() {
            Rule::activation_def => {
                let span = span_of(&item);
                let mut it = item.into_inner();
                let name = it.next().unwrap().as_str().to_string();
                let var = it.next().unwrap().as_str().to_string();
                let body = build_expr(&file, it.next().unwrap())?;
                file.activations.push(ActivationDef {
                    name,
                    var,
                    body,
                    span,
                });
            }
            Rule::let_stmt => {
                let l = build_let(&file, item)?;
                file.lets.push(l);
            }
            Rule::model => {
                let m = build_model(&file, item)?;
                file.models.push(m);
            }
            Rule::inn_model => {
                let m = build_inn(&file, item)?;
                file.inns.push(m);
            }
            Rule::efnn_def => {
                let m = build_efnn(&file, item)?;
                file.efnns.push(m);
            }
            Rule::EOI => {}
            r => unreachable!("unexpected rule {r:?}"),
        }
    }
    Ok(file)
}

fn build_efnn(file: &SpecFile, p: Pair<Rule>) -> Result<EfnnAst, SpecError> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let mut m = EfnnAst {
        name,
        span,
        arch: None,
        input: None,
        sizes: vec![],
        weights: None,
    };
    let int = |q: &Pair<Rule>| -> Result<usize, SpecError> {
        q.as_str().parse().map_err(|_| {
            file.error(
                span_of(q),
                "number is too large",
                Some("sizes are small integers".into()),
            )
        })
    };
    for q in it {
        let s = span_of(&q);
        match q.as_rule() {
            Rule::arch_stmt => {
                m.arch = Some((q.into_inner().next().unwrap().as_str().to_string(), s));
            }
            Rule::efnn_input => {
                let v = q.into_inner().next().unwrap();
                let l = match v.as_rule() {
                    Rule::lattice_kw => None,
                    _ => Some(int(&v)?),
                };
                m.input = Some((l, s));
            }
            Rule::efnn_size => {
                let mut kv = q.into_inner();
                let key = kv.next().unwrap().as_str().to_string();
                let v = int(&kv.next().unwrap())?;
                m.sizes.push((key, v, s));
            }
            Rule::weights_stmt => {
                let lit = q.into_inner().next().unwrap().as_str();
                m.weights = Some((lit[1..lit.len() - 1].to_string(), s));
            }
            r => unreachable!("unexpected rule {r:?}"),
        }
    }
    Ok(m)
}

fn build_let(file: &SpecFile, p: Pair<Rule>) -> Result<LetDef, SpecError> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let value = build_expr(file, it.next().unwrap())?;
    Ok(LetDef { name, value, span })
}

fn build_width(file: &SpecFile, p: Pair<Rule>) -> Result<(Width, Span), SpecError> {
    let span = span_of(&p);
    let inner = p.into_inner().next().unwrap();
    let w = match inner.as_rule() {
        Rule::integer => {
            let n: usize = inner.as_str().parse().map_err(|_| {
                file.error(
                    span,
                    "width is too large",
                    Some("widths are neuron counts, e.g. `layer 32 tanh`".into()),
                )
            })?;
            if n == 0 {
                return Err(file.error(
                    span,
                    "a width must be at least 1",
                    Some("give the number of neurons, e.g. `layer 32 tanh`".into()),
                ));
            }
            Width::Fixed(n)
        }
        _ => Width::Symbol(inner.as_str().to_string()),
    };
    Ok((w, span))
}

fn build_layer(file: &SpecFile, p: Pair<Rule>) -> Result<LayerAst, SpecError> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let (width, width_span) = build_width(file, it.next().unwrap())?;
    let mut layer = LayerAst {
        width,
        width_span,
        act: None,
        params: None,
        span,
    };
    for q in it {
        match q.as_rule() {
            Rule::act_ref => {
                let inner = q.into_inner().next().unwrap();
                let s = span_of(&inner);
                layer.act = Some(match inner.as_rule() {
                    Rule::inline_act => {
                        ActRef::Inline(build_expr(file, inner.into_inner().next().unwrap())?, s)
                    }
                    _ => ActRef::Named(inner.as_str().to_string(), s),
                });
            }
            Rule::param_names => {
                let mut names = q.into_inner().map(|n| n.as_str().to_string());
                layer.params = Some((names.next().unwrap(), names.next().unwrap()));
            }
            r => unreachable!("unexpected rule {r:?}"),
        }
    }
    Ok(layer)
}

fn build_model(file: &SpecFile, p: Pair<Rule>) -> Result<ModelAst, SpecError> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let mut m = ModelAst {
        name,
        span,
        input: None,
        layers: vec![],
        output: None,
        weights: None,
        binds: vec![],
        lets: vec![],
    };
    for stmt in it {
        let s = span_of(&stmt);
        match stmt.as_rule() {
            Rule::input_stmt => {
                if m.input.is_some() {
                    return Err(file.error(
                        s,
                        "the input dimension is given twice",
                        Some("keep one `input` line per model".into()),
                    ));
                }
                m.input = Some(build_width(file, stmt.into_inner().next().unwrap())?);
            }
            Rule::layer_stmt => {
                if m.output.is_some() {
                    return Err(file.error(
                        s,
                        "a hidden layer after the output layer",
                        Some("`output` must be the last layer".into()),
                    ));
                }
                m.layers.push(build_layer(file, stmt)?);
            }
            Rule::output_stmt => {
                if m.output.is_some() {
                    return Err(file.error(
                        s,
                        "the output layer is given twice",
                        Some("keep one `output` line per model".into()),
                    ));
                }
                m.output = Some(build_layer(file, stmt)?);
            }
            Rule::weights_stmt => {
                let raw = stmt.into_inner().next().unwrap().as_str();
                m.weights = Some((raw[1..raw.len() - 1].to_string(), s));
            }
            Rule::bind_stmt => {
                let mut parts = stmt.into_inner();
                while let (Some(a), Some(b)) = (parts.next(), parts.next()) {
                    let raw = b.as_str();
                    m.binds.push(Binding {
                        param: a.as_str().to_string(),
                        tensor: raw[1..raw.len() - 1].to_string(),
                        span: (a.as_span().start(), b.as_span().end()),
                    });
                }
            }
            Rule::let_stmt => m.lets.push(build_let(file, stmt)?),
            r => unreachable!("unexpected rule {r:?}"),
        }
    }
    Ok(m)
}

fn build_value(file: &SpecFile, p: Pair<Rule>) -> Result<Value, SpecError> {
    let mut inner = p.into_inner().peekable();
    Ok(match inner.peek().map(|q| q.as_rule()) {
        Some(Rule::expr) if inner.len() == 1 => {
            Value::Scalar(build_expr(file, inner.next().unwrap())?)
        }
        _ => Value::List(
            inner
                .map(|q| build_value(file, q))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn build_inn(file: &SpecFile, p: Pair<Rule>) -> Result<InnAst, SpecError> {
    let span = span_of(&p);
    let mut it = p.into_inner();
    let name = it.next().unwrap().as_str().to_string();
    let mut m = InnAst {
        name,
        span,
        dim: None,
        layers: vec![],
        weights: None,
        binds: vec![],
        params: vec![],
        lets: vec![],
    };
    for stmt in it {
        let s = span_of(&stmt);
        match stmt.as_rule() {
            Rule::dim_stmt => {
                if m.dim.is_some() {
                    return Err(file.error(
                        s,
                        "the dimension is given twice",
                        Some("keep one `dim N` line per inn model".into()),
                    ));
                }
                m.dim = Some(build_width(file, stmt.into_inner().next().unwrap())?);
            }
            Rule::inn_layer_stmt => {
                let mut layer = InnLayerAst {
                    phi: None,
                    params: None,
                    span: s,
                };
                for q in stmt.into_inner() {
                    match q.as_rule() {
                        Rule::inn_phi => {
                            let inner = q.into_inner().next().unwrap();
                            let sp = span_of(&inner);
                            layer.phi = Some(match inner.as_rule() {
                                Rule::inline_act => ActRef::Inline(
                                    build_expr(file, inner.into_inner().next().unwrap())?,
                                    sp,
                                ),
                                _ => ActRef::Named(inner.as_str().to_string(), sp),
                            });
                        }
                        Rule::inn_params => {
                            layer.params =
                                Some(q.into_inner().map(|n| n.as_str().to_string()).collect());
                        }
                        r => unreachable!("unexpected rule {r:?}"),
                    }
                }
                m.layers.push(layer);
            }
            Rule::weights_stmt => {
                let raw = stmt.into_inner().next().unwrap().as_str();
                m.weights = Some((raw[1..raw.len() - 1].to_string(), s));
            }
            Rule::bind_stmt => {
                let mut parts = stmt.into_inner();
                while let (Some(a), Some(b)) = (parts.next(), parts.next()) {
                    let raw = b.as_str();
                    m.binds.push(Binding {
                        param: a.as_str().to_string(),
                        tensor: raw[1..raw.len() - 1].to_string(),
                        span: (a.as_span().start(), b.as_span().end()),
                    });
                }
            }
            Rule::param_stmt => {
                let mut parts = stmt.into_inner();
                let name = parts.next().unwrap().as_str().to_string();
                let value = build_value(file, parts.next().unwrap())?;
                m.params.push(ParamDef {
                    name,
                    value,
                    span: s,
                });
            }
            Rule::let_stmt => m.lets.push(build_let(file, stmt)?),
            r => unreachable!("unexpected rule {r:?}"),
        }
    }
    Ok(m)
}

impl pratt::Tree for Expr {
    fn neg(a: Expr) -> Expr {
        Expr::Neg(Box::new(a))
    }
    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        let (l, r) = (Box::new(a), Box::new(b));
        match op {
            BinOp::Add => Expr::Add(l, r),
            BinOp::Sub => Expr::Sub(l, r),
            BinOp::Mul => Expr::Mul(l, r),
            BinOp::Div => Expr::Div(l, r),
            BinOp::Pow => Expr::Pow(l, r),
        }
    }
}

fn build_expr(file: &SpecFile, p: Pair<Rule>) -> Result<Expr, SpecError> {
    Ok(build_expr_at(file, p, 0)?.0)
}

/// The shared iterative builder ([`pratt::build`]); `base` is the bracket depth of `p`.
fn build_expr_at(file: &SpecFile, p: Pair<Rule>, base: usize) -> Result<(Expr, usize), SpecError> {
    let span = span_of(&p);
    let too_deep = |d: usize| {
        file.error(
            span,
            format!(
                "this expression nests {d} levels deep; the limit is {MAX_EXPR_DEPTH}"
            ),
            Some("long sums, chains of `^` or of minus signs nest too: split the expression with `let` constants".into()),
        )
    };
    if base > MAX_EXPR_DEPTH {
        return Err(too_deep(base));
    }
    let tokens = p.into_inner().map(|q| -> Result<Tok<Expr>, SpecError> {
        Ok(match q.as_rule() {
            Rule::neg => Tok::Neg,
            Rule::add => Tok::Bin(BinOp::Add),
            Rule::sub => Tok::Bin(BinOp::Sub),
            Rule::mul => Tok::Bin(BinOp::Mul),
            Rule::div => Tok::Bin(BinOp::Div),
            Rule::pow => Tok::Bin(BinOp::Pow),
            Rule::number => Tok::Primary(number(file, &q)?, 0),
            Rule::ident => Tok::Primary(Expr::Var(q.as_str().to_string()), 0),
            Rule::expr => {
                let (e, d) = build_expr_at(file, q, base + 1)?;
                Tok::Primary(e, d)
            }
            Rule::call => {
                let mut it = q.into_inner();
                let f = it.next().unwrap().as_str().to_string();
                let mut args = Vec::new();
                let mut depth = 0;
                for a in it {
                    let (e, d) = build_expr_at(file, a, base + 1)?;
                    depth = depth.max(d + 1);
                    args.push(e);
                }
                Tok::Primary(Expr::Call(f, args), depth)
            }
            r => unreachable!("unexpected token {r:?}"),
        })
    });
    pratt::build(tokens, MAX_EXPR_DEPTH, too_deep)
}

/// A number literal; one beyond the range of f64 (`1e400`) is an error, not infinity.
fn number(file: &SpecFile, q: &Pair<Rule>) -> Result<Expr, SpecError> {
    let v: f64 = q.as_str().parse().unwrap_or(f64::NAN);
    if !v.is_finite() {
        return Err(file.error(
            span_of(q),
            format!("the number `{}` is out of range", q.as_str()),
            Some("numbers must be finite double-precision values (|x| < 1.8e308)".into()),
        ));
    }
    Ok(Expr::Num(v, q.as_str().to_string()))
}

fn rule_name(r: &Rule) -> String {
    match r {
        Rule::EOI => "end of file".into(),
        Rule::ident => "a name".into(),
        Rule::integer => "a whole number".into(),
        Rule::number => "a number".into(),
        Rule::string => "a quoted file or tensor name".into(),
        Rule::width => "a width (a number or a symbol)".into(),
        Rule::act_ref => "an activation (tanh, sigmoid, ..., or `(expression in z)`)".into(),
        Rule::expr | Rule::primary => "an expression".into(),
        Rule::model => "`model NAME { ... }`".into(),
        Rule::activation_def => "`activation NAME(z) = ...`".into(),
        Rule::let_stmt => "`let NAME = VALUE`".into(),
        Rule::input_stmt => "`input`".into(),
        Rule::layer_stmt => "`layer`".into(),
        Rule::output_stmt => "`output`".into(),
        Rule::weights_stmt => "`weights`".into(),
        Rule::bind_stmt => "`bind`".into(),
        Rule::param_names => "`params(W, b)`".into(),
        Rule::inn_model => "`inn NAME { dim N  layer quad ... }`".into(),
        Rule::dim_stmt => "`dim`".into(),
        Rule::inn_layer_stmt => "`layer`".into(),
        Rule::inn_phi => {
            "a nonlinearity (quad, linear, a user activation, or `(polynomial in h)`)".into()
        }
        Rule::inn_params => "`params(W, b, alpha)`".into(),
        Rule::param_stmt => "`param NAME = VALUE`".into(),
        Rule::value => "a number or a list `[...]`".into(),
        Rule::efnn_def => "`efnn NAME { ... }`".into(),
        Rule::arch_stmt => "`arch efnn|dnn|resnet|densenet`".into(),
        Rule::efnn_input => "`input L` or `input lattice`".into(),
        Rule::efnn_size | Rule::size_key => {
            "`width`, `channels`, `kernel` or `depth` with a number".into()
        }
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::pow => "an operator".into(),
        other => format!("{other:?}"),
    }
}

fn pest_error(file: &SpecFile, e: pest::error::Error<Rule>) -> SpecError {
    let (span, message) = super::pest_error::span_and_message(file.source.len(), &e, rule_name);
    let found = file
        .source
        .get(span.0..)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or("");
    let help = if found.is_empty() {
        Some("the file ends here; is a `}` missing?".to_string())
    } else {
        Some(format!(
            "found `{}`; a model reads `model NAME {{ input D  layer W ACT ...  output K }}` (the spec language: book/src/dsl.md)",
            found.chars().take(24).collect::<String>()
        ))
    };
    file.error(span, message, help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_model_with_everything() {
        let src = r#"
// two models and a user activation
activation quad(z) = z + a*z^2
let a = 0.25
model m1 {
  input 3
  layer 4 tanh params(A1, c1)
  layer n quad
  layer 5 (z + 0.1*z^3)
  output 1
  weights "w.safetensors"
  bind A1 = "0.weight", c1 <- "0.bias"
}
model m2 { input d  layer 2 sigma  output 2 sigmoid }
"#;
        let f = parse_spec("t.fnn", src).unwrap();
        assert_eq!(f.models.len(), 2);
        assert_eq!(f.activations[0].body.to_string(), "z + a*z^2");
        let m = &f.models[0];
        assert_eq!(m.layers.len(), 3);
        assert_eq!(m.layers[1].width, Width::Symbol("n".into()));
        assert_eq!(m.layers[0].params, Some(("A1".into(), "c1".into())));
        assert_eq!(m.binds.len(), 2);
        assert!(
            matches!(&m.layers[2].act, Some(ActRef::Inline(e, _)) if e.to_string() == "z + 0.1*z^3")
        );
        assert_eq!(
            f.models[1].input.as_ref().unwrap().0,
            Width::Symbol("d".into())
        );
    }

    #[test]
    fn power_is_right_associative_and_binds_tighter_than_minus() {
        let f = parse_spec("t", "let a = -2^3^2\nlet b = 1 - 2 - 3").unwrap();
        assert_eq!(f.lets[0].value.eval(&|_| None), Some(-(2f64.powf(9.0))));
        assert_eq!(f.lets[1].value.eval(&|_| None), Some(-4.0));
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = parse_spec("bad.fnn", "model m {\n  input 3\n  layer tanh\n}").unwrap_err();
        let msg = err.to_string();
        // `tanh` reads as a symbolic width, so the activation is missing at the `}`.
        assert!(
            msg.starts_with("bad.fnn:4:1: expected an activation"),
            "{msg}"
        );
    }
}
