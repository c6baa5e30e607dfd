//! The model-spec language: grammar (`grammar/feynn.pest`), parser and syntax tree.
//!
//! The grammar is documented in `book/src/dsl.md`. Parsing produces a [`SpecFile`];
//! [`crate::model`] turns it into validated models. Every error carries the file, line,
//! column and span of the offending text (see [`crate::error::SpecError`]).

pub mod expr;
mod parser;
pub mod pratt;

pub use expr::Expr;
pub use parser::parse_spec;

/// A byte range in the spec source.
pub type Span = (usize, usize);

/// A width: a concrete number, or a symbol for general-width (index) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Width {
    Fixed(usize),
    Symbol(String),
}

impl std::fmt::Display for Width {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Width::Fixed(n) => write!(f, "{n}"),
            Width::Symbol(s) => f.write_str(s),
        }
    }
}

/// How a layer names its activation.
#[derive(Debug, Clone, PartialEq)]
pub enum ActRef {
    /// A built-in (`tanh`) or a user-defined activation (`quad`).
    Named(String, Span),
    /// An inline expression in `z`: `layer 8 (z + 0.1*z^2)`.
    Inline(Expr, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LayerAst {
    pub width: Width,
    pub width_span: Span,
    pub act: Option<ActRef>,
    pub params: Option<(String, String)>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivationDef {
    pub name: String,
    pub var: String,
    pub body: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LetDef {
    pub name: String,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub param: String,
    pub tensor: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelAst {
    pub name: String,
    pub span: Span,
    pub input: Option<(Width, Span)>,
    pub layers: Vec<LayerAst>,
    pub output: Option<LayerAst>,
    pub weights: Option<(String, Span)>,
    pub binds: Vec<Binding>,
    pub lets: Vec<LetDef>,
}

/// A parameter value written in the spec: a scalar expression or a nested list of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Expr),
    List(Vec<Value>),
}

/// `param NAME = VALUE` inside an `inn` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    pub name: String,
    pub value: Value,
    pub span: Span,
}

/// One layer of an `inn` model: its nonlinearity (`None`: the default `quad`) and parameter names.
#[derive(Debug, Clone, PartialEq)]
pub struct InnLayerAst {
    pub phi: Option<ActRef>,
    /// `params(W, b)` or `params(W, b, alpha)`.
    pub params: Option<Vec<String>>,
    pub span: Span,
}

/// An `inn NAME { … }` block: an invertible network in the data → latent direction.
#[derive(Debug, Clone, PartialEq)]
pub struct InnAst {
    pub name: String,
    pub span: Span,
    pub dim: Option<(Width, Span)>,
    pub layers: Vec<InnLayerAst>,
    pub weights: Option<(String, Span)>,
    pub binds: Vec<Binding>,
    pub params: Vec<ParamDef>,
    pub lets: Vec<LetDef>,
}

/// An `efnn NAME { … }` block as written (validated by `crate::efnn::EfnnSpec::from_ast`).
#[derive(Debug, Clone, PartialEq)]
pub struct EfnnAst {
    pub name: String,
    pub span: Span,
    /// `arch NAME` (efnn, dnn, resnet, densenet).
    pub arch: Option<(String, Span)>,
    /// `input L` (Some(L)) or `input lattice` (None).
    pub input: Option<(Option<usize>, Span)>,
    /// `width`, `channels`, `kernel`, `depth` statements in order.
    pub sizes: Vec<(String, usize, Span)>,
    pub weights: Option<(String, Span)>,
}

/// A parsed spec file, with its source kept for diagnostics.
#[derive(Debug, Clone)]
pub struct SpecFile {
    pub path: String,
    pub source: String,
    pub activations: Vec<ActivationDef>,
    pub lets: Vec<LetDef>,
    pub models: Vec<ModelAst>,
    pub inns: Vec<InnAst>,
    pub efnns: Vec<EfnnAst>,
}

impl SpecFile {
    /// A diagnostic pointing at `span` of this file.
    pub fn error(
        &self,
        span: Span,
        message: impl Into<String>,
        help: Option<String>,
    ) -> crate::error::SpecError {
        crate::error::SpecError::new(&self.path, &self.source, span, message.into(), help)
    }
}
