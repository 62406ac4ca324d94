//! The parser for the PowerShell subset administrators type in the field guide, written with
//! [`winnow`] parser combinators: one function per grammar production below.
//!
//! PowerShell tokenizes in two modes, and so does this parser: in *argument mode* (after a
//! command name) `server,*url*` is an array of two bare words and `HKCU\SOFTWARE\…` is one word;
//! in *expression mode* (a statement starting with `$`, `(`, a quote or a number, and inside
//! script blocks and parentheses) `-eq` is an operator and words must be quoted. The grammar
//! (`ws` is blanks, `<# … #>` and `# …` comments and `` ` ``-newline continuations; a newline
//! ends a statement except where an operand must still follow):
//!
//! ```text
//! line       := prompt? statements
//! statements := ( ';' | newline | statement )*
//! statement  := postfix '=' pipeline | pipeline
//! pipeline   := element ('|' element)*
//! element    := command | expr              (an expr only as the first element)
//! command    := word arg* redirect?
//! arg        := '-' name (':' argvalue)? | argvalue
//! argvalue   := argprim (',' argprim)*
//! argprim    := string | '$'var postfix-ops | '(' pipeline ')' postfix-ops | '{' block '}' | word
//! expr       := and ( ('-or'|'-xor') and )*
//! and        := cmp ( '-and' cmp )*
//! cmp        := array ( cmpop array )*          cmpop: -eq -ne -like -match … (and -c/-i forms)
//! array      := unary ( ',' unary )*
//! unary      := ('-not'|'!') unary | postfix
//! postfix    := primary ( '.' name ( '(' args ')' )? | '[' expr ']' )*
//! primary    := number | string | '$'var | '(' pipeline ')' | '$(' pipeline ')' | '@(' pipeline ')'
//!             | '@{' hash '}' | '{' block '}'
//! ```
//!
//! The input is a [`LocatingSlice`] over the command text (so every node knows its offset)
//! with the parse's [`Ctx`] as `Stateful` state (nesting depth, notes). Every failure is a
//! cut (`ErrMode::Cut`) carrying a `ContextError` whose context is a [`Diag`]: PowerShell's
//! own message and error id (`MissingEndParenthesisInExpression`, …, from
//! `error::catalogue`) with the column and width of the `~` marker, turned into a
//! [`ShellError`] rendered as `At line:1 char:N` by [`super::error`]. The grammar has no
//! ambiguity that needs backtracking except the assignment target (`$x.Prop = …` against
//! `$x.Prop -eq …`), which is tried and rewound.
//!
//! This file is the grammar; the input, its state, failures and character classes are in
//! `parser/input.rs`, and the trivia, words, strings and numbers in `parser/lexical.rs`.

use std::sync::Arc;

use winnow::combinator::{opt, preceded};
use winnow::stream::{LocatingSlice, Stream};
use winnow::token::{any, one_of, take, take_while};
use winnow::Parser;

mod input;
mod lexical;

use input::*;
use lexical::*;

use super::ast::*;
use super::error::catalogue;
use super::error::ShellError;

/// What the parser notes when it drops a `>` that ends a line with nothing after it: the guide's
/// `Get-OABVirtualDirectory | FL server,*url*>` carries one (a web page artefact).
pub const TRAILING_GT_NOTE: &str = "ignored a trailing '>' with no file name (PowerShell itself would report \"Missing file specification after redirection operator.\")";

/// The most command text parsed at once (a bound for hostile input; a session's lines are short).
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

/// How deeply expressions may nest: `(`, `{`, `$(` and `@(`, unary operators, and each
/// operator, member access, index and method call of a chain (`$x.a.b`, `1 -eq 1 -eq 1`) add a
/// level. The lab parses and evaluates recursively and keeps the stack bounded for hostile
/// input (PowerShell itself allows more).
pub const MAX_NESTING: usize = 32;

/// What a chain level is, for the message of [`deeper`].
#[derive(Clone, Copy)]
enum Chain {
    /// `.Name`, `[i]`, `.Method()`.
    Postfix,
    /// `-and`, `-or`, `-eq`, …
    Operator,
}

/// Parses one line (or several `;`-separated statements). A pasted prompt such as
/// `[PS] C:\Windows\system32>` or `PS C:\>` in front of the command is stripped first.
pub fn parse_line(line: &str) -> Result<Script, ShellError> {
    let text = strip_prompt(line);
    if text.len() > MAX_SCRIPT_BYTES {
        return Err(catalogue::parse(
            "",
            0,
            1,
            catalogue::script_too_long(MAX_SCRIPT_BYTES),
        ));
    }
    let ctx = Ctx::new(text);
    let mut input = In {
        input: LocatingSlice::new(text),
        state: &ctx,
    };
    match statements(&mut input, None) {
        Ok(statements) => Ok(Script {
            statements,
            notes: ctx.notes.into_inner(),
        }),
        Err(e) => Err(to_shell_error(&ctx, &input, e)),
    }
}

/// Removes a pasted prompt: `[PS] <anything up to '>'>` or `PS <drive>:<path>>`.
pub fn strip_prompt(line: &str) -> &str {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("[PS]") {
        if let Some(i) = rest.find('>') {
            return rest[i + 1..].trim_start();
        }
    }
    if let Some(rest) = t.strip_prefix("PS ") {
        let b = rest.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            if let Some(i) = rest.find('>') {
                return rest[i + 1..].trim_start();
            }
        }
    }
    t
}

const CMP_OPS: &[(&str, BinOp)] = &[
    ("eq", BinOp::Eq),
    ("ne", BinOp::Ne),
    ("gt", BinOp::Gt),
    ("ge", BinOp::Ge),
    ("lt", BinOp::Lt),
    ("le", BinOp::Le),
    ("like", BinOp::Like),
    ("notlike", BinOp::NotLike),
    ("match", BinOp::Match),
    ("notmatch", BinOp::NotMatch),
    ("contains", BinOp::Contains),
    ("notcontains", BinOp::NotContains),
    ("in", BinOp::In),
    ("notin", BinOp::NotIn),
];

// ---------------------------------------------------------------------------------------------
// Statements and pipelines.
// ---------------------------------------------------------------------------------------------

/// `statements`: until the end, or until `close` (`)` or `}`), which is not consumed.
fn statements(i: &mut In<'_>, close: Option<char>) -> PResult<Vec<Statement>> {
    let mut out = Vec::new();
    loop {
        ws_nl(i)?;
        match peek_char(i) {
            None => break,
            Some(c) if Some(c) == close => break,
            Some(';' | '\n' | '\r') => {
                any.void().parse_next(i)?;
                continue;
            }
            Some(c @ (')' | '}')) => {
                return fail(here(i), 1, catalogue::unexpected_token(&c.to_string()))
            }
            _ => {}
        }
        out.push(statement(i)?);
        ws(i)?;
        match peek_char(i) {
            None | Some(';' | '\n' | '\r') => {}
            Some(c) if Some(c) == close => {}
            _ => return unexpected(i),
        }
    }
    Ok(out)
}

/// `statement := postfix '=' pipeline | pipeline`.
fn statement(i: &mut In<'_>) -> PResult<Statement> {
    if peek_char(i) == Some('$') {
        let start = i.checkpoint();
        let target = postfix(i)?;
        ws(i)?;
        if peek_char(i) == Some('=') && peek_nth(i, 1) != Some('=') {
            '='.parse_next(i)?;
            ws_nl(i)?;
            if matches!(peek_char(i), None | Some(';' | '|')) {
                return fail(here(i), 1, catalogue::missing_value_after_operator("="));
            }
            let value = pipeline(i)?;
            return Ok(Statement::Assign { target, value });
        }
        i.reset(&start);
    }
    Ok(Statement::Pipeline(pipeline(i)?))
}

/// `pipeline := element ('|' element)*`.
fn pipeline(i: &mut In<'_>) -> PResult<Pipeline> {
    let mut elements = vec![element(i, true)?];
    loop {
        ws(i)?;
        if peek_char(i) == Some('|') && peek_nth(i, 1) != Some('|') {
            let bar = here(i);
            '|'.parse_next(i)?;
            ws_nl(i)?;
            if no_operand(peek_char(i)) {
                return fail(bar + 1, 1, catalogue::empty_pipe_element());
            }
            elements.push(element(i, false)?);
        } else {
            break;
        }
    }
    Ok(Pipeline { elements })
}

/// Whether the element at the cursor is an expression rather than a command.
fn starts_expression(i: &In<'_>) -> bool {
    let rest: &str = i;
    match peek_char(i) {
        Some('$' | '(' | '@' | '!' | '{') => true,
        Some(c) if is_single_quote(c) || is_double_quote(c) => true,
        // a number only if the whole word is one
        Some(c) if c.is_ascii_digit() => rest
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .chars()
            .next()
            .is_none_or(ends_word),
        Some(c) if is_dash(c) => {
            let after = &rest[c.len_utf8()..];
            let word = after
                .find(|c: char| !c.is_alphabetic())
                .map_or(after, |k| &after[..k]);
            word.eq_ignore_ascii_case("not")
        }
        _ => false,
    }
}

/// `element := command | expr`.
fn element(i: &mut In<'_>, first: bool) -> PResult<Element> {
    if starts_expression(i) {
        if !first {
            return fail(here(i), 1, catalogue::expression_after_first_pipe_element());
        }
        return Ok(Element::Expr(expr(i)?));
    }
    command(i).map(Element::Command)
}

/// `command := word arg* redirect?`.
fn command(i: &mut In<'_>) -> PResult<Command> {
    let pos = here(i);
    let name = word(i)?;
    if name.is_empty() {
        return unexpected(i);
    }
    let mut args = Vec::new();
    let mut redirect = None;
    loop {
        ws(i)?;
        match peek_char(i) {
            None | Some('|' | ';' | ')' | '}' | '\n' | '\r') => break,
            Some('>') => match redirection(i)? {
                Some(file) => redirect = Some(file),
                None => break,
            },
            Some('<') => return fail(here(i), 1, catalogue::input_redirection_reserved()),
            Some(c)
                if is_dash(c)
                    && peek_nth(i, 1)
                        .is_some_and(|n| n.is_alphabetic() || n == '_' || n == '?') =>
            {
                args.push(parameter(i)?)
            }
            Some(_) => args.push(Arg::Value(arg_value(i)?)),
        }
    }
    Ok(Command {
        name,
        pos,
        args,
        redirect,
    })
}

/// `redirect := ('>' | '>>') word`. A `>` that ends the text is noted and dropped (`None`).
fn redirection(i: &mut In<'_>) -> PResult<Option<String>> {
    let gt = here(i);
    ('>', opt('>')).void().parse_next(i)?;
    ws(i)?;
    match peek_char(i) {
        None => {
            i.state
                .notes
                .borrow_mut()
                .push(TRAILING_GT_NOTE.to_string());
            Ok(None)
        }
        Some('|' | ';' | ')' | '}' | '\n' | '\r') => {
            fail(gt, 1, catalogue::missing_file_specification())
        }
        Some(_) => word(i).map(Some),
    }
}

/// `arg := '-' name (':' argvalue)?` (the value of the colon form is kept with the name).
fn parameter(i: &mut In<'_>) -> PResult<Arg> {
    let pos = here(i);
    let start = byte(i);
    one_of(is_dash).parse_next(i)?;
    let name: &str = take_while(0.., |c: char| !ends_word(c) && c != ':').parse_next(i)?;
    let name = name.to_string();
    let value = match opt(':').parse_next(i)? {
        Some(_) => Some(arg_value(i)?),
        None => None,
    };
    let raw = i.state.text[start..byte(i)].to_string();
    Ok(Arg::Param {
        name,
        pos,
        value,
        raw,
    })
}

/// `argvalue := argprim (',' argprim)*` (several make an array).
fn arg_value(i: &mut In<'_>) -> PResult<Expr> {
    let pos = here(i);
    let mut items = vec![arg_primary(i)?];
    loop {
        let save = i.checkpoint();
        ws(i)?;
        if opt(',').parse_next(i)?.is_none() {
            i.reset(&save);
            break;
        }
        ws_nl(i)?;
        if no_operand(peek_char(i)) {
            return fail(
                here(i).saturating_sub(1),
                1,
                catalogue::missing_expression_in_argument_list(),
            );
        }
        items.push(arg_primary(i)?);
    }
    Ok(array_of(items, pos))
}

fn array_of(mut items: Vec<Expr>, pos: usize) -> Expr {
    if items.len() == 1 {
        items.remove(0)
    } else {
        Expr {
            kind: ExprKind::Array(items),
            pos,
        }
    }
}

/// `argprim`: an expression-mode value, or a bare word (a number if it reads as one).
fn arg_primary(i: &mut In<'_>) -> PResult<Expr> {
    let pos = here(i);
    match peek_char(i) {
        Some('$' | '(' | '@' | '{') => postfix(i),
        Some(c) if is_single_quote(c) || is_double_quote(c) => postfix(i),
        Some(',') => fail(pos, 1, catalogue::missing_argument_in_argument_list()),
        _ => {
            let w = word(i)?;
            if w.is_empty() {
                return unexpected(i);
            }
            let kind = match w.parse::<i64>() {
                Ok(n) => ExprKind::Int(n),
                Err(_) => ExprKind::Bare(w),
            };
            Ok(Expr { kind, pos })
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expressions.
// ---------------------------------------------------------------------------------------------

/// An operator keyword at the cursor, not consumed: `-name` → (lowercase name, char width).
fn peek_operator(i: &In<'_>) -> Option<(String, usize)> {
    let rest: &str = i;
    let c = rest.chars().next()?;
    if !is_dash(c) {
        return None;
    }
    let after = &rest[c.len_utf8()..];
    let word = after
        .find(|c: char| !c.is_alphabetic())
        .map_or(after, |k| &after[..k]);
    if word.is_empty() {
        return None;
    }
    Some((word.to_ascii_lowercase(), word.chars().count() + 1))
}

/// Consumes the operator of char width `n` and the blanks and newlines after it, then parses
/// its right operand with `f` (PowerShell's error when there is none).
fn operand(i: &mut In<'_>, n: usize, f: fn(&mut In<'_>) -> PResult<Expr>) -> PResult<Expr> {
    let opos = here(i);
    let op: &str = take(n).parse_next(i)?;
    let op = op.to_string();
    ws_nl(i)?;
    if no_operand(peek_char(i)) {
        return fail(opos + n, 1, catalogue::missing_value_after_operator(&op));
    }
    f(i)
}

fn binary(op: BinOp, left: Expr, right: Expr, case: bool) -> Expr {
    let pos = left.pos;
    Expr {
        kind: ExprKind::Binary(op, Box::new(left), Box::new(right), case),
        pos,
    }
}

/// `expr := and ( ('-or'|'-xor') and )*`.
fn expr(i: &mut In<'_>) -> PResult<Expr> {
    chain(i, or_chain)
}

fn or_chain(i: &mut In<'_>) -> PResult<Expr> {
    let mut left = and_expr(i)?;
    loop {
        ws(i)?;
        let op = match peek_operator(i) {
            Some((w, n)) if w == "or" => (BinOp::Or, n),
            Some((w, n)) if w == "xor" => (BinOp::Xor, n),
            _ => return Ok(left),
        };
        deeper(i, here(i), op.1, Chain::Operator)?;
        let right = operand(i, op.1, and_expr)?;
        left = binary(op.0, left, right, false);
    }
}

/// `and := cmp ( '-and' cmp )*`.
fn and_expr(i: &mut In<'_>) -> PResult<Expr> {
    chain(i, and_chain)
}

fn and_chain(i: &mut In<'_>) -> PResult<Expr> {
    let mut left = cmp_expr(i)?;
    loop {
        ws(i)?;
        match peek_operator(i) {
            Some((w, n)) if w == "and" => {
                deeper(i, here(i), n, Chain::Operator)?;
                let right = operand(i, n, cmp_expr)?;
                left = binary(BinOp::And, left, right, false);
            }
            _ => return Ok(left),
        }
    }
}

/// `cmp := add ( cmpop add )*`; `-ceq` is case-sensitive, `-ieq` is `-eq`.
fn cmp_expr(i: &mut In<'_>) -> PResult<Expr> {
    chain(i, cmp_chain)
}

fn cmp_chain(i: &mut In<'_>) -> PResult<Expr> {
    let mut left = add_expr(i)?;
    loop {
        ws(i)?;
        let Some((w, n)) = peek_operator(i) else {
            return Ok(left);
        };
        let (case, base) = if let Some(b) = w.strip_prefix('c') {
            (true, b)
        } else if let Some(b) = w.strip_prefix('i') {
            (false, b)
        } else {
            (false, w.as_str())
        };
        let op = CMP_OPS
            .iter()
            .find(|(name, _)| *name == base || *name == w)
            .map(|(_, op)| *op);
        let Some(op) = op else {
            if matches!(w.as_str(), "and" | "or" | "xor") {
                return Ok(left);
            }
            let rest: &str = i;
            let tok: String = rest.chars().take(n).collect();
            return fail(here(i), n, catalogue::unexpected_token(&tok));
        };
        // `-in`/`-contains` spelled in full take precedence over the c/i prefixes
        let case = case && CMP_OPS.iter().all(|(name, _)| *name != w);
        deeper(i, here(i), n, Chain::Operator)?;
        let right = operand(i, n, add_expr)?;
        left = binary(op, left, right, case);
    }
}

/// `add := array ( '+' array )*`: PowerShell's `+` binds looser than `,`, so
/// `(Get-AdfsProperties).WIASupportedUserAgents + "Trident/7.0"` appends one item.
fn add_expr(i: &mut In<'_>) -> PResult<Expr> {
    chain(i, add_chain)
}

fn add_chain(i: &mut In<'_>) -> PResult<Expr> {
    let mut left = array_expr(i)?;
    loop {
        let save = i.checkpoint();
        ws(i)?;
        if peek_char(i) != Some('+') {
            i.reset(&save);
            return Ok(left);
        }
        deeper(i, here(i), 1, Chain::Operator)?;
        let right = operand(i, 1, array_expr)?;
        left = binary(BinOp::Add, left, right, false);
    }
}

/// `array := unary ( ',' unary )*`.
fn array_expr(i: &mut In<'_>) -> PResult<Expr> {
    let pos = here(i);
    let mut items = vec![unary(i)?];
    loop {
        let save = i.checkpoint();
        ws(i)?;
        let cpos = here(i);
        if opt(',').parse_next(i)?.is_none() {
            i.reset(&save);
            break;
        }
        ws_nl(i)?;
        if no_operand(peek_char(i)) {
            return fail(cpos, 1, catalogue::missing_expression_after_comma());
        }
        items.push(unary(i)?);
    }
    Ok(array_of(items, pos))
}

/// Runs `f` one bracket deeper, or fails at char offset `pos` past [`MAX_NESTING`].
fn nested<T>(
    i: &mut In<'_>,
    pos: usize,
    width: usize,
    f: impl FnOnce(&mut In<'_>) -> PResult<T>,
) -> PResult<T> {
    let depth = &i.state.depth;
    if depth.get() >= MAX_NESTING {
        return fail(pos, width, catalogue::brackets_too_deep(MAX_NESTING));
    }
    depth.set(depth.get() + 1);
    let r = f(i);
    let depth = &i.state.depth;
    depth.set(depth.get() - 1);
    r
}

/// Runs a chain whose operators each take the expression one level deeper ([`deeper`]), and
/// gives the levels back when the chain ends (or fails and is rewound).
fn chain<T>(i: &mut In<'_>, f: impl FnOnce(&mut In<'_>) -> PResult<T>) -> PResult<T> {
    let entry = i.state.depth.get();
    let r = f(i);
    i.state.depth.set(entry);
    r
}

/// One more operator of a chain at char offset `pos`, or a failure past [`MAX_NESTING`]; an
/// operator keeps a level free for its operand, so the failure names the chain, not a bracket.
fn deeper(i: &In<'_>, pos: usize, width: usize, what: Chain) -> PResult<()> {
    let depth = &i.state.depth;
    if depth.get() + 1 >= MAX_NESTING {
        let adds = match what {
            Chain::Postfix => "'.Name', '[i]' and '.Method()' each add one",
            Chain::Operator => "each operator in a row adds one",
        };
        return fail(pos, width, catalogue::chain_too_deep(MAX_NESTING, adds));
    }
    depth.set(depth.get() + 1);
    Ok(())
}

/// `unary := ('-not'|'!') unary | postfix`.
fn unary(i: &mut In<'_>) -> PResult<Expr> {
    let pos = here(i);
    let not_len = match (peek_char(i), peek_operator(i)) {
        (Some('!'), _) => Some(1),
        (_, Some((w, n))) if w == "not" => Some(n),
        _ => None,
    };
    let Some(n) = not_len else {
        return postfix(i);
    };
    nested(i, pos, n, |i| {
        let op: &str = take(n).parse_next(i)?;
        let op = op.to_string();
        ws_nl(i)?;
        if no_operand(peek_char(i)) {
            return fail(pos + n, 1, catalogue::missing_expression_after_unary(&op));
        }
        let inner = unary(i)?;
        Ok(Expr {
            kind: ExprKind::Not(Box::new(inner)),
            pos,
        })
    })
}

/// `postfix := primary ( '.' name ( '(' args ')' )? | '[' expr ']' )*`.
fn postfix(i: &mut In<'_>) -> PResult<Expr> {
    chain(i, postfix_chain)
}

fn postfix_chain(i: &mut In<'_>) -> PResult<Expr> {
    let mut e = primary(i)?;
    loop {
        let pos = e.pos;
        let kind = match peek_char(i) {
            Some('.') if peek_nth(i, 1).is_some_and(is_ident) => {
                deeper(i, here(i), 1, Chain::Postfix)?;
                '.'.parse_next(i)?;
                let name = ident(i)?;
                if peek_char(i) == Some('(') {
                    ExprKind::Method(Box::new(e), name, method_args(i)?)
                } else {
                    ExprKind::Member(Box::new(e), name)
                }
            }
            Some('[') => {
                deeper(i, here(i), 1, Chain::Postfix)?;
                ExprKind::Index(Box::new(e), Box::new(index(i)?))
            }
            _ => return Ok(e),
        };
        e = Expr { kind, pos };
    }
}

/// `'(' (unary (',' unary)*)? ')'` after a method name (the comma separates arguments).
fn method_args(i: &mut In<'_>) -> PResult<Vec<Expr>> {
    let open = here(i);
    '('.parse_next(i)?;
    let mut args = Vec::new();
    ws_nl(i)?;
    if opt(')').parse_next(i)?.is_some() {
        return Ok(args);
    }
    loop {
        ws_nl(i)?;
        args.push(unary(i)?);
        ws_nl(i)?;
        match opt(one_of([',', ')'])).parse_next(i)? {
            Some(',') => {}
            Some(_) => return Ok(args),
            None => return fail(open, 1, catalogue::missing_end_parenthesis_in_method_call()),
        }
    }
}

/// `'[' expr ']'`.
fn index(i: &mut In<'_>) -> PResult<Expr> {
    let open = here(i);
    '['.parse_next(i)?;
    ws_nl(i)?;
    let idx = expr(i)?;
    ws_nl(i)?;
    if opt(']').parse_next(i)?.is_none() {
        return fail(open, 1, catalogue::missing_end_square_bracket());
    }
    Ok(idx)
}

/// `primary`, one bracket deeper.
fn primary(i: &mut In<'_>) -> PResult<Expr> {
    let pos = here(i);
    nested(i, pos, 1, primary_inner)
}

/// `primary := number | string | '$'var | '(' pipeline ')' | '$(' … ')' | '@(' … ')' | '@{' … '}'
/// | '{' block '}'`.
fn primary_inner(i: &mut In<'_>) -> PResult<Expr> {
    let pos = here(i);
    let Some(c) = peek_char(i) else {
        return fail(pos, 1, catalogue::expected_expression());
    };
    let kind = match c {
        '$' => variable(i, pos)?,
        '(' => {
            '('.parse_next(i)?;
            ExprKind::Sub(Box::new(paren_body(i, pos)?))
        }
        '@' if peek_nth(i, 1) == Some('{') => {
            "@{".parse_next(i)?;
            ExprKind::Hash(hash_body(i, pos)?)
        }
        '@' if peek_nth(i, 1) == Some('(') => {
            "@(".parse_next(i)?;
            ws_nl(i)?;
            if opt(')').parse_next(i)?.is_some() {
                ExprKind::Array(Vec::new())
            } else {
                ExprKind::ArraySub(Box::new(paren_body(i, pos)?))
            }
        }
        '{' => script_block(i, pos)?,
        c if is_single_quote(c) => ExprKind::Str(single_quoted(i, pos)?),
        c if is_double_quote(c) => ExprKind::Expandable(double_quoted(i, pos)?),
        c if c.is_ascii_digit() => ExprKind::Int(number(i, pos)?),
        _ => return unexpected(i),
    };
    Ok(Expr { kind, pos })
}

/// `'$' ( '(' pipeline ')' | '{' name '}' | name | '?' )`; a lone `$` is the text `$`.
fn variable(i: &mut In<'_>, pos: usize) -> PResult<ExprKind> {
    '$'.parse_next(i)?;
    Ok(match peek_char(i) {
        Some('(') => {
            '('.parse_next(i)?;
            ExprKind::Sub(Box::new(paren_body(i, pos)?))
        }
        Some('_') if !peek_nth(i, 1).is_some_and(is_ident) => {
            '_'.parse_next(i)?;
            ExprKind::Var("_".into())
        }
        Some('{') => {
            let name: &str = preceded('{', take_while(0.., |c| c != '}')).parse_next(i)?;
            let name = name.to_string();
            opt('}').parse_next(i)?;
            ExprKind::Var(name)
        }
        Some('?') => {
            '?'.parse_next(i)?;
            ExprKind::Var("?".into())
        }
        Some(c) if is_ident(c) => ExprKind::Var(ident(i)?),
        _ => ExprKind::Str("$".into()),
    })
}

/// `'{' statements '}'`: the statements plus the text between the braces.
fn script_block(i: &mut In<'_>, pos: usize) -> PResult<ExprKind> {
    '{'.parse_next(i)?;
    let start = byte(i);
    let statements = statements(i, Some('}'))?;
    let end = byte(i);
    if opt('}').parse_next(i)?.is_none() {
        return fail(pos, 1, catalogue::missing_end_curly_brace());
    }
    Ok(ExprKind::Script(Arc::new(ScriptBlock {
        statements,
        text: i.state.text[start..end].to_string(),
    })))
}

/// `key = value` pairs (separated by `;` or newlines) up to the closing `}` of a hash literal.
fn hash_body(i: &mut In<'_>, open: usize) -> PResult<Vec<(String, Expr)>> {
    let mut pairs = Vec::new();
    loop {
        ws_nl(i)?;
        while opt(';').parse_next(i)?.is_some() {
            ws_nl(i)?;
        }
        match peek_char(i) {
            Some('}') => {
                '}'.parse_next(i)?;
                return Ok(pairs);
            }
            None => return fail(open, 2, catalogue::incomplete_hash_literal()),
            _ => {}
        }
        let kpos = here(i);
        let key = match peek_char(i) {
            Some(q) if is_single_quote(q) || is_double_quote(q) => match primary_inner(i)?.kind {
                ExprKind::Str(k) | ExprKind::Expandable(k) => k,
                _ => String::new(),
            },
            _ => ident(i)?,
        };
        if key.is_empty() {
            return fail(kpos, 1, catalogue::missing_key_in_hash_literal());
        }
        ws_nl(i)?;
        if opt('=').parse_next(i)?.is_none() {
            return fail(here(i), 1, catalogue::missing_equals_in_hash_literal());
        }
        ws_nl(i)?;
        if matches!(peek_char(i), None | Some(';' | '}')) {
            return fail(here(i), 1, catalogue::missing_statement_in_hash_literal());
        }
        pairs.push((key, expr(i)?));
    }
}

/// `pipeline ')'` after `(`, `$(` or `@(` opened at char offset `open`.
fn paren_body(i: &mut In<'_>, open: usize) -> PResult<Pipeline> {
    ws_nl(i)?;
    if peek_char(i) == Some(')') {
        return fail(here(i), 1, catalogue::expected_expression());
    }
    let p = match statement(i)? {
        Statement::Pipeline(p) => p,
        Statement::Assign { .. } => return fail(open, 1, catalogue::assignment_in_parentheses()),
    };
    ws_nl(i)?;
    match peek_char(i) {
        Some(')') => {
            ')'.parse_next(i)?;
            Ok(p)
        }
        None => fail(open, 1, catalogue::missing_end_parenthesis()),
        Some(_) => unexpected(i),
    }
}

#[cfg(test)]
mod tests;
