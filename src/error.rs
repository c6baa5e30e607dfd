//! Errors. Every failure the user can cause is an [`Error`] with a clear message;
//! the CLI maps them to exit code 2 ("bad input").

use miette::{Diagnostic, NamedSource, SourceSpan};

/// A diagnostic anchored in a spec file: `file:line:col: message`, a caret under the span, a hint.
///
/// The snippet with the caret is shown only when the lines around the span are of a printable
/// length: miette's renderer panics on columns beyond 65,536, and a 100 kB line is no help to
/// read anyway. Without a snippet the message still names file, line and column.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct SpecError {
    /// `file:line:col` of the span's start (1-based line and column).
    pub location: String,
    /// What is wrong, in words.
    pub message: String,
    /// The spec file's name and text, for the caret display.
    pub src: NamedSource<String>,
    /// Offending byte range (offset, length).
    pub span: SourceSpan,
    /// What to do, if known.
    pub help: Option<String>,
    /// Whether the snippet is safe and useful to render.
    pub snippet: bool,
}

/// Longest line (in bytes) around a span for which a snippet is rendered.
const SNIPPET_LINE_LIMIT: usize = 2000;

impl Diagnostic for SpecError {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.snippet.then_some(&self.src as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if !self.snippet {
            return None;
        }
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".into()), self.span),
        )))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

/// Whether the lines from one before `start` to one after `end` are short enough to render.
fn snippet_fits(source: &str, start: usize, end: usize) -> bool {
    if end - start > SNIPPET_LINE_LIMIT {
        return false;
    }
    let bytes = source.as_bytes();
    // back to the start of the line before, forward to the end of the line after
    let mut a = start;
    for _ in 0..2 {
        a = bytes[..a.min(bytes.len())]
            .iter()
            .rposition(|&c| c == b'\n')
            .unwrap_or(0);
    }
    let mut b = end;
    for _ in 0..2 {
        b = bytes[(b + 1).min(bytes.len())..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(bytes.len(), |p| b + 1 + p);
    }
    source
        .get(a..b.min(source.len()))
        .is_some_and(|w| w.split('\n').all(|l| l.len() <= SNIPPET_LINE_LIMIT))
}

impl SpecError {
    /// A diagnostic for the byte range `span` (start, end) of `source`, read from `path`;
    /// the range is clamped to the source.
    pub fn new(
        path: &str,
        source: &str,
        span: (usize, usize),
        message: String,
        help: Option<String>,
    ) -> Self {
        let mut start = span.0.min(source.len());
        while !source.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.1.clamp(start, source.len());
        while !source.is_char_boundary(end) {
            end += 1;
        }
        let (line, col) = line_col(source, start);
        SpecError {
            location: format!("{path}:{line}:{col}"),
            message,
            src: NamedSource::new(path, source.to_string()),
            span: (start, end - start).into(),
            help,
            snippet: snippet_fits(source, start, end),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Every error of the library.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    /// A spec, claim or expression error with its location.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Spec(#[from] Box<SpecError>),

    /// A file that cannot be read or written.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },

    /// Writing a file (or standard output) failed.
    #[error("cannot write {path}: {source}")]
    #[diagnostic(help("check that the folder exists, is writable and the disk is not full"))]
    Write {
        /// The file, or `standard output`.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// A weights file that cannot be read or parsed.
    #[error("weights file {path}: {message}")]
    #[diagnostic(help("{help}"))]
    Weights {
        /// The weights file.
        path: String,
        /// What is wrong, in words.
        message: String,
        /// What to do.
        help: String,
    },

    /// A parameter's tensor is not in the weights file (or has a non-float dtype).
    #[error("weights file {path}: {message}")]
    #[diagnostic(help("{help}"))]
    MissingTensor {
        /// The weights file.
        path: String,
        /// The tensor's name in the file.
        tensor: String,
        /// What is wrong, in words.
        message: String,
        /// What to do.
        help: String,
    },

    /// A tensor holds NaN or ±Inf.
    #[error("weights file {path}: {message}")]
    #[diagnostic(help("{help}"))]
    NonFinite {
        /// The weights file.
        path: String,
        /// The tensor's name in the file.
        tensor: String,
        /// What is wrong, in words (the value and its position).
        message: String,
        /// What to do.
        help: String,
    },

    /// A tensor whose shape differs from what the spec says.
    #[error("tensor `{tensor}` in {path}: expected shape {expected}, found {found}")]
    #[diagnostic(help("the spec says this parameter has shape {expected}; check the layer widths or the `bind` lines"))]
    Shape {
        /// The weights file.
        path: String,
        /// The tensor's name in the file.
        tensor: String,
        /// Shape the spec implies, e.g. `[8, 2]`.
        expected: String,
        /// Shape found in the file.
        found: String,
    },

    /// A request refused because its predicted cost exceeds a limit.
    #[error("refused: {what} would need about {predicted}, above the limit of {limit}")]
    #[diagnostic(help("{help}"))]
    TooLarge {
        /// The refused computation, in words.
        what: String,
        /// Its predicted cost (human-readable).
        predicted: String,
        /// The limit it exceeds (human-readable).
        limit: String,
        /// What to do.
        help: String,
    },

    /// Any other bad input: (message, hint).
    #[error("{0}")]
    #[diagnostic(help("{1}"))]
    Invalid(String, String),
}

impl From<SpecError> for Error {
    fn from(e: SpecError) -> Self {
        Error::Spec(Box::new(e))
    }
}

/// The cause of an [`Error`], for callers that match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Spec, claim or expression syntax and validation (file:line:col).
    Parse,
    /// Reading or writing a file.
    Io,
    /// A weights file that cannot be read.
    Weights,
    /// A tensor with the wrong shape.
    Shape,
    /// A tensor the spec needs is not in the file.
    MissingTensor,
    /// NaN or ±Inf where a finite number is needed.
    NonFinite,
    /// A request refused because it would not fit (memory or work).
    TooLarge,
    /// Any other bad input or usage error.
    Invalid,
}

impl Error {
    /// The cause, for matching: `match e.kind() { ErrorKind::Shape => …, … }`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Spec(_) => ErrorKind::Parse,
            Error::Io { .. } | Error::Write { .. } => ErrorKind::Io,
            Error::Weights { .. } => ErrorKind::Weights,
            Error::MissingTensor { .. } => ErrorKind::MissingTensor,
            Error::NonFinite { .. } => ErrorKind::NonFinite,
            Error::Shape { .. } => ErrorKind::Shape,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Invalid(..) => ErrorKind::Invalid,
        }
    }

    /// A usage error with a hint.
    pub fn invalid(message: impl Into<String>, help: impl Into<String>) -> Self {
        Error::Invalid(message.into(), help.into())
    }
}

/// The library's result type, with [`Error`] by default.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Human-readable byte count.
pub fn human_bytes(b: f64) -> String {
    const U: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < U.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", U[i])
}
