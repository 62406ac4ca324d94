//! The lexical layer of the parser: blanks, comments and line continuations (trivia), bare
//! words and names, quoted strings and numbers — the pieces that read characters and hold no
//! grammar.

use winnow::combinator::{alt, opt, preceded, repeat};
use winnow::token::{any, none_of, one_of, take, take_while};
use winnow::Parser;

use super::input::*;
use crate::shell::error::catalogue;

/// `<# … #>` (an unterminated one runs to the end).
pub(super) fn block_comment(i: &mut In<'_>) -> PResult<()> {
    "<#".parse_next(i)?;
    let rest: &str = i;
    let len = rest.find("#>").map_or(rest.len(), |k| k + 2);
    take(rest[..len].chars().count()).void().parse_next(i)
}

/// `# …` up to the end of the line.
pub(super) fn line_comment(i: &mut In<'_>) -> PResult<()> {
    ('#', take_while(0.., |c: char| !is_newline(c)))
        .void()
        .parse_next(i)
}

/// `` ` `` at the end of a line joins the next line to it.
pub(super) fn continuation(i: &mut In<'_>) -> PResult<()> {
    ('`', one_of(is_newline), opt('\n')).void().parse_next(i)
}

/// Blanks, comments and continuations on the current line (a newline ends a statement).
pub(super) fn ws(i: &mut In<'_>) -> PResult<()> {
    repeat(
        0..,
        alt((
            take_while(1.., |c: char| c.is_whitespace() && !is_newline(c)).void(),
            continuation,
            block_comment,
            line_comment,
        )),
    )
    .parse_next(i)
}

/// As [`ws`], and newlines too (where an operand must follow).
pub(super) fn ws_nl(i: &mut In<'_>) -> PResult<()> {
    repeat(
        0..,
        alt((
            take_while(1.., char::is_whitespace).void(),
            continuation,
            block_comment,
            line_comment,
        )),
    )
    .parse_next(i)
}

/// A bare word in argument mode; `` ` `` escapes the next character.
pub(super) fn word(i: &mut In<'_>) -> PResult<String> {
    repeat(0.., alt((preceded('`', any), none_of(ends_word))))
        .fold(String::new, |mut w, c| {
            w.push(c);
            w
        })
        .parse_next(i)
}

pub(super) fn ident(i: &mut In<'_>) -> PResult<String> {
    take_while(0.., is_ident).map(str::to_string).parse_next(i)
}

/// `'…'` with `''` for a quote; any of the typographic single quotes counts as one.
pub(super) fn single_quoted(i: &mut In<'_>, pos: usize) -> PResult<String> {
    one_of(is_single_quote).parse_next(i)?;
    let s = repeat(
        0..,
        alt((
            (one_of(is_single_quote), one_of(is_single_quote)).value('\''),
            none_of(is_single_quote),
        )),
    )
    .fold(String::new, |mut s, c| {
        s.push(c);
        s
    })
    .parse_next(i)?;
    if opt(one_of(is_single_quote)).parse_next(i)?.is_none() {
        return fail(pos, 1, catalogue::missing_string_terminator('\''));
    }
    Ok(s)
}

/// `"…"` with `""` for a quote and backtick escapes; `$name` stays in the text and is expanded
/// at run time (an escaped `` `$ `` is kept apart as U+E000 so that it does not expand).
pub(super) fn double_quoted(i: &mut In<'_>, pos: usize) -> PResult<String> {
    one_of(is_double_quote).parse_next(i)?;
    let s = repeat(
        0..,
        alt((
            preceded('`', opt(any)).map(|n| match n.unwrap_or('`') {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '0' => '\0',
                '$' => '\u{E000}',
                o => o,
            }),
            (one_of(is_double_quote), one_of(is_double_quote)).value('"'),
            none_of(is_double_quote),
        )),
    )
    .fold(String::new, |mut s, c| {
        s.push(c);
        s
    })
    .parse_next(i)?;
    if opt(one_of(is_double_quote)).parse_next(i)?.is_none() {
        return fail(pos, 1, catalogue::missing_string_terminator('"'));
    }
    Ok(s)
}

/// A number: the run of letters, digits and dots must read as an integer.
pub(super) fn number(i: &mut In<'_>, pos: usize) -> PResult<i64> {
    let w: &str = take_while(1.., |c: char| c.is_ascii_alphanumeric() || c == '.').parse_next(i)?;
    match w.parse::<i64>() {
        Ok(n) => Ok(n),
        Err(_) => fail(pos, w.chars().count(), catalogue::bad_numeric_constant(w)),
    }
}
