//! Parse errors: what is wrong with a predicate's text, and where.

use std::fmt;

/// Why a text is not a predicate, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    offset: usize,
    line: usize,
    column: usize,
    kind: ParseErrorKind,
}

impl ParseError {
    /// The byte offset of the error in the text.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The line of the error, from 1.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column of the error, from 1, counted in characters (not bytes).
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }
}

/// What is wrong with a predicate's text; [`ParseError`] says where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Something else was expected here.
    Expected {
        /// What would have been valid, such as ``"`,` or `)`"``.
        expected: String,
        /// What was found, such as ``"`x`"`` or `"end of input"`.
        found: String,
    },
    /// A name that is neither a built-in nor a registered custom predicate.
    UnknownPredicate {
        /// The name.
        name: String,
    },
    /// One argument too many.
    TooManyArguments {
        /// The predicate's name.
        name: String,
        /// What it takes: `"no arguments"`, `"exactly one string"` or `"exactly one predicate"`.
        takes: &'static str,
    },
    /// A string without its closing `"`; the position is that of the opening one.
    UnterminatedString,
    /// A backslash followed by something other than `"` or `\`.
    InvalidEscape {
        /// The character after the backslash.
        escape: char,
    },
    /// Predicates nested more than [`MAX_DEPTH`](super::MAX_DEPTH) levels deep.
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The text is longer than [`MAX_EXPRESSION_LEN`](super::MAX_EXPRESSION_LEN) bytes.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A custom predicate's factory rejected its arguments.
    InvalidArguments {
        /// The predicate's name.
        name: String,
        /// The factory's explanation.
        reason: String,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, column) = (self.line, self.column);
        match &self.kind {
            ParseErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected} at {line}:{column}, found {found}")?;
            }
            ParseErrorKind::UnknownPredicate { name } => {
                write!(f, "unknown predicate `{name}` at {line}:{column}")?;
            }
            ParseErrorKind::TooManyArguments { name, takes } => {
                write!(
                    f,
                    "too many arguments at {line}:{column}: `{name}` takes {takes}"
                )?;
            }
            ParseErrorKind::UnterminatedString => {
                write!(f, "unterminated string starting at {line}:{column}")?;
            }
            ParseErrorKind::InvalidEscape { escape } => {
                write!(
                    f,
                    "invalid escape `\\{}` at {line}:{column}, expected `\\\"` or `\\\\`",
                    escape.escape_debug()
                )?;
            }
            ParseErrorKind::TooDeep { max } => {
                write!(
                    f,
                    "predicates nested more than {max} levels deep at {line}:{column}"
                )?;
            }
            ParseErrorKind::TooLong { len, max } => {
                return write!(
                    f,
                    "expression is {len} bytes long, at most {max} are allowed"
                );
            }
            ParseErrorKind::InvalidArguments { name, reason } => {
                write!(
                    f,
                    "invalid arguments of `{name}` at {line}:{column}: {reason}"
                )?;
            }
        }
        write!(f, " (byte {})", self.offset)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    pub(super) fn new(
        offset: usize,
        line: usize,
        column: usize,
        kind: ParseErrorKind,
    ) -> ParseError {
        ParseError {
            offset,
            line,
            column,
            kind,
        }
    }
}
