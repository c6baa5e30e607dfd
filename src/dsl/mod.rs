//! The model-spec language: grammar (`grammar/feynn.pest`), parser and syntax tree.
//!
//! The grammar is documented in `book/src/dsl.md`. Parsing produces a [`SpecFile`];
//! [`crate::model`] turns it into validated models. Every error carries the file, line,
//! column and span of the offending text (see [`crate::error::SpecError`]).

pub mod expr;
mod parser;
pub(crate) mod pest_error;
pub mod pratt;

pub use expr::Expr;
pub use parser::parse_spec;

/// A byte range in the spec source.
pub type Span = (usize, usize);

/// A width: a concrete number, or a symbol for general-width (index) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Width {
    /// A concrete width, e.g. `layer 8`.
    Fixed(usize),
    /// A symbolic width, e.g. `layer n`.
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

/// A `layer` (or `output`) statement of a `model` block as written.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerAst {
    /// Number of units.
    pub width: Width,
    /// Source range of the width.
    pub width_span: Span,
    /// The activation (`None`: none written).
    pub act: Option<ActRef>,
    /// `params(W, b)`: the names of the weight matrix and bias parameters.
    pub params: Option<(String, String)>,
    /// Source range of the whole statement.
    pub span: Span,
}

/// A user-defined activation: `activation NAME(VAR) = BODY`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationDef {
    /// Activation name, used by `layer` statements.
    pub name: String,
    /// The bound variable of the body (usually `z`).
    pub var: String,
    /// The defining expression in `var`.
    pub body: Expr,
    /// Source range of the definition.
    pub span: Span,
}

/// A constant definition: `let NAME = VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct LetDef {
    /// Constant name.
    pub name: String,
    /// Its defining expression.
    pub value: Expr,
    /// Source range of the definition.
    pub span: Span,
}

/// A `bind PARAM = TENSOR` statement: a parameter taken from a named tensor of the weights file.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// Parameter name in the model.
    pub param: String,
    /// Tensor name in the weights file.
    pub tensor: String,
    /// Source range of the statement.
    pub span: Span,
}

/// A `model NAME { … }` block (an MLP) as written.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAst {
    /// Model name.
    pub name: String,
    /// Source range of the block.
    pub span: Span,
    /// `input D`: the input dimension d.
    pub input: Option<(Width, Span)>,
    /// Hidden layers, input side first.
    pub layers: Vec<LayerAst>,
    /// The `output` layer.
    pub output: Option<LayerAst>,
    /// `weights "FILE"`: path of the weights file.
    pub weights: Option<(String, Span)>,
    /// `bind` statements.
    pub binds: Vec<Binding>,
    /// `let` definitions local to the block.
    pub lets: Vec<LetDef>,
}

/// A parameter value written in the spec: a scalar expression or a nested list of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar expression.
    Scalar(Expr),
    /// A list `[…]` of values (nested for matrices).
    List(Vec<Value>),
}

/// `param NAME = VALUE` inside an `inn` block.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    /// Parameter name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// Source range of the statement.
    pub span: Span,
}

/// One layer of an `inn` model: its nonlinearity (`None`: the default `quad`) and parameter names.
#[derive(Debug, Clone, PartialEq)]
pub struct InnLayerAst {
    /// The nonlinearity φ (`None`: `quad`).
    pub phi: Option<ActRef>,
    /// `params(W, b)` or `params(W, b, alpha)`.
    pub params: Option<Vec<String>>,
    /// Source range of the statement.
    pub span: Span,
}

/// An `inn NAME { … }` block: an invertible network in the data → latent direction.
#[derive(Debug, Clone, PartialEq)]
pub struct InnAst {
    /// Model name.
    pub name: String,
    /// Source range of the block.
    pub span: Span,
    /// `dim D`: the dimension of data and latent space.
    pub dim: Option<(Width, Span)>,
    /// Layers in the data → latent order.
    pub layers: Vec<InnLayerAst>,
    /// `weights "FILE"`: path of the weights file.
    pub weights: Option<(String, Span)>,
    /// `bind` statements.
    pub binds: Vec<Binding>,
    /// Inline `param` definitions.
    pub params: Vec<ParamDef>,
    /// `let` definitions local to the block.
    pub lets: Vec<LetDef>,
}

/// An `efnn NAME { … }` block as written (validated by `crate::efnn::EfnnSpec::from_ast`).
#[derive(Debug, Clone, PartialEq)]
pub struct EfnnAst {
    /// Model name.
    pub name: String,
    /// Source range of the block.
    pub span: Span,
    /// `arch NAME` (efnn, dnn, resnet, densenet).
    pub arch: Option<(String, Span)>,
    /// `input L` (Some(L)) or `input lattice` (None).
    pub input: Option<(Option<usize>, Span)>,
    /// `width`, `channels`, `kernel`, `depth` statements in order.
    pub sizes: Vec<(String, usize, Span)>,
    /// `weights "FILE"`: path of the weights file.
    pub weights: Option<(String, Span)>,
}

/// A parsed spec file, with its source kept for diagnostics.
#[derive(Debug, Clone)]
pub struct SpecFile {
    /// Path of the spec file (as given).
    pub path: String,
    /// Full source text.
    pub source: String,
    /// Top-level `activation` definitions.
    pub activations: Vec<ActivationDef>,
    /// Top-level `let` definitions.
    pub lets: Vec<LetDef>,
    /// `model` blocks (MLPs).
    pub models: Vec<ModelAst>,
    /// `inn` blocks (invertible networks).
    pub inns: Vec<InnAst>,
    /// `efnn` blocks.
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
