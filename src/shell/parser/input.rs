//! The parser's input and its failures: the located command text with the parse state
//! ([`Ctx`]: offsets, nesting depth, notes), the cursor helpers, the character classes of
//! PowerShell's tokenizer, and [`fail`], which carries an error text of the catalogue
//! (`error::catalogue`) to the point where the record is made.

use std::cell::{Cell, RefCell};

use winnow::error::{ContextError, ErrMode, ModalResult};
use winnow::stream::{LocatingSlice, Location, Stateful, Stream};

use crate::shell::error::catalogue::{self, ParseText};
use crate::shell::error::ShellError;

/// One parse's state: the text, a byte-to-char offset table (positions in the AST and in
/// errors are char offsets), the bracket depth and the notes about tolerated input.
#[derive(Debug)]
pub(super) struct Ctx<'a> {
    pub(super) text: &'a str,
    /// `chars[b]` is the char offset of byte offset `b`; empty when the text is ASCII.
    pub(super) chars: Vec<usize>,
    pub(super) depth: Cell<usize>,
    pub(super) notes: RefCell<Vec<String>>,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let mut chars = Vec::new();
        if !text.is_ascii() {
            chars.resize(text.len() + 1, 0);
            let mut n = 0;
            for (b, c) in text.char_indices() {
                for slot in &mut chars[b..b + c.len_utf8()] {
                    *slot = n;
                }
                n += 1;
            }
            chars[text.len()] = n;
        }
        Ctx {
            text,
            chars,
            depth: Cell::new(0),
            notes: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn char_pos(&self, byte: usize) -> usize {
        if self.chars.is_empty() {
            byte
        } else {
            self.chars[byte.min(self.text.len())]
        }
    }
}

/// The parser's input: the located command text plus the parse state.
pub(super) type In<'a> = Stateful<LocatingSlice<&'a str>, &'a Ctx<'a>>;

/// A PowerShell parse error as carried in winnow's [`ContextError`]: char offset, width of the
/// `~` marker, `FullyQualifiedErrorId` and message.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Diag {
    pub(super) pos: usize,
    pub(super) width: usize,
    pub(super) text: ParseText,
}

pub(super) type PResult<T> = ModalResult<T, ContextError<Diag>>;

/// Maps winnow's error onto the PowerShell error record. Every failure this grammar raises
/// carries a [`Diag`]; a bare winnow error (none is expected) reads as an unexpected token at
/// the point the input stopped.
pub(super) fn to_shell_error(
    ctx: &Ctx<'_>,
    input: &In<'_>,
    e: ErrMode<ContextError<Diag>>,
) -> ShellError {
    let diag = match &e {
        ErrMode::Cut(c) | ErrMode::Backtrack(c) => c.context().next().cloned(),
        ErrMode::Incomplete(_) => None,
    };
    let diag = diag.unwrap_or_else(|| unexpected_diag(input));
    catalogue::parse(ctx.text, diag.pos, diag.width, diag.text)
}

/// The current char offset.
pub(super) fn here(i: &In<'_>) -> usize {
    i.state.char_pos(i.current_token_start())
}

/// The current byte offset into the command text.
pub(super) fn byte(i: &In<'_>) -> usize {
    i.current_token_start()
}

pub(super) fn peek_char(i: &In<'_>) -> Option<char> {
    i.peek_token()
}

pub(super) fn peek_nth(i: &In<'_>, k: usize) -> Option<char> {
    i.chars().nth(k)
}

/// A fatal error at char offset `pos`.
pub(super) fn fail<T>(pos: usize, width: usize, text: ParseText) -> PResult<T> {
    let mut e = ContextError::new();
    e.push(Diag { pos, width, text });
    Err(ErrMode::Cut(e))
}

/// PowerShell's `Unexpected token 'x'` for whatever stands at the cursor: the run of name
/// characters there, or the one character that is not one.
pub(super) fn unexpected_diag(i: &In<'_>) -> Diag {
    let rest: &str = i;
    let mut end = 0;
    for (b, c) in rest.char_indices() {
        if c.is_whitespace() {
            break;
        }
        end = b + c.len_utf8();
        if !is_ident(c) {
            break;
        }
    }
    if end == 0 {
        end = rest.chars().next().map_or(0, char::len_utf8);
    }
    let tok = &rest[..end];
    Diag {
        pos: here(i),
        width: tok.chars().count().max(1),
        text: catalogue::unexpected_token(tok),
    }
}

pub(super) fn unexpected<T>(i: &In<'_>) -> PResult<T> {
    let d = unexpected_diag(i);
    fail(d.pos, d.width, d.text)
}

pub(super) fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}

pub(super) fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}

pub(super) fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}

pub(super) fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(super) fn is_newline(c: char) -> bool {
    c == '\n' || c == '\r'
}

/// Characters that end a bare word in argument mode.
pub(super) fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '|' | ';' | ',' | '(' | ')' | '{' | '}' | '>' | '<')
}

/// What may not start an operand: the end, or a statement/pipeline/bracket terminator.
pub(super) fn no_operand(c: Option<char>) -> bool {
    matches!(c, None | Some('|' | ';' | ')' | '}'))
}
