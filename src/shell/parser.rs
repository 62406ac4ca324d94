//! A recursive-descent parser for the PowerShell subset administrators type in the field guide.
//!
//! PowerShell tokenizes in two modes, and so does this parser: in *argument mode* (after a
//! command name) `server,*url*` is an array of two bare words and `HKCU\SOFTWARE\…` is one word;
//! in *expression mode* (a statement starting with `$`, `(`, a quote or a number, and inside
//! script blocks and parentheses) `-eq` is an operator and words must be quoted. The grammar:
//!
//! ```text
//! line       := prompt? statement (';' statement)* comment?
//! statement  := postfix '=' pipeline | pipeline
//! pipeline   := element ('|' element)*
//! element    := command | expr
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
//!             | '{' block '}'
//! ```
//!
//! Errors carry PowerShell's own message and error id (`MissingEndParenthesisInExpression`, …)
//! and the column, rendered as `At line:1 char:N` by [`super::error`].

use std::sync::Arc;

use super::ast::*;
use super::error::ShellError;

/// What the parser notes when it drops a `>` that ends a line with nothing after it: the guide's
/// `Get-OABVirtualDirectory | FL server,*url*>` carries one (a web page artefact).
pub const TRAILING_GT_NOTE: &str = "ignored a trailing '>' with no file name (PowerShell itself would report \"Missing file specification after redirection operator.\")";

/// Parses one line (or several `;`-separated statements). A pasted prompt such as
/// `[PS] C:\Windows\system32>` or `PS C:\>` in front of the command is stripped first.
pub fn parse_line(line: &str) -> Result<Script, ShellError> {
    let text = strip_prompt(line);
    if text.len() > MAX_SCRIPT_BYTES {
        return Err(ShellError::parse(
            "",
            0,
            1,
            "LabScriptTooLong",
            format!("The lab accepts at most {MAX_SCRIPT_BYTES} bytes of commands at once."),
        ));
    }
    let mut p = Parser {
        s: text.chars().collect(),
        i: 0,
        depth: 0,
        text: text.to_string(),
        notes: Vec::new(),
    };
    let statements = p.statements(None)?;
    Ok(Script {
        statements,
        notes: p.notes,
    })
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

/// The most command text parsed at once (a bound for hostile input; a session's lines are short).
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;

/// How deeply `(`, `{`, `$(` and `@(` may nest: the lab parses recursively and keeps the
/// stack bounded for hostile input (PowerShell itself allows more).
pub const MAX_NESTING: usize = 32;

struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
    text: String,
    notes: Vec<String>,
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

fn is_single_quote(c: char) -> bool {
    matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
}
fn is_double_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}')
}
fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2013}' | '\u{2014}' | '\u{2015}')
}
fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}
/// Characters that end a bare word in argument mode.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '|' | ';' | ',' | '(' | ')' | '{' | '}' | '>' | '<')
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }
    /// Skips blanks and comments on the current line (a newline ends a statement).
    fn ws(&mut self) {
        self.skip(false)
    }

    /// Skips blanks, comments and newlines (where an operand must follow).
    fn ws_nl(&mut self) {
        self.skip(true)
    }

    fn skip(&mut self, newlines: bool) {
        while let Some(c) = self.peek() {
            if c == '\n' || c == '\r' {
                if !newlines {
                    break;
                }
                self.i += 1;
            } else if c.is_whitespace() {
                self.i += 1;
            } else if c == '`' && self.peek_at(1).is_some_and(|c| c == '\n' || c == '\r') {
                self.i += 2;
                if self.peek() == Some('\n') {
                    self.i += 1;
                }
            } else if c == '<' && self.peek_at(1) == Some('#') {
                // block comment
                let mut j = self.i + 2;
                while j + 1 < self.s.len() && !(self.s[j] == '#' && self.s[j + 1] == '>') {
                    j += 1;
                }
                self.i = (j + 2).min(self.s.len());
            } else if c == '#' {
                while self.peek().is_some_and(|c| c != '\n' && c != '\r') {
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }
    fn err(&self, pos: usize, width: usize, id: &str, msg: impl Into<String>) -> ShellError {
        ShellError::parse(&self.text, pos, width, id, msg)
    }
    fn unexpected(&self) -> ShellError {
        let start = self.i;
        let mut j = self.i;
        while j < self.s.len() && !self.s[j].is_whitespace() {
            j += 1;
            if j - start >= 1 && !is_ident(self.s[j - 1]) {
                break;
            }
        }
        let tok: String = self.s[start..j.max(start + 1).min(self.s.len())]
            .iter()
            .collect();
        self.err(
            start,
            tok.chars().count().max(1),
            "UnexpectedToken",
            format!("Unexpected token '{tok}' in expression or statement."),
        )
    }

    /// Statements until the end, or until `close` (`)` or `}`), which is not consumed.
    fn statements(&mut self, close: Option<char>) -> Result<Vec<Statement>, ShellError> {
        let mut out = Vec::new();
        loop {
            self.ws_nl();
            match self.peek() {
                None => break,
                Some(c) if Some(c) == close => break,
                Some(';' | '\n' | '\r') => {
                    self.i += 1;
                    continue;
                }
                Some(c @ (')' | '}')) => {
                    return Err(self.err(
                        self.i,
                        1,
                        "UnexpectedToken",
                        format!("Unexpected token '{c}' in expression or statement."),
                    ))
                }
                _ => {}
            }
            out.push(self.statement()?);
            self.ws();
            match self.peek() {
                None | Some(';' | '\n' | '\r') => {}
                Some(c) if Some(c) == close => {}
                _ => return Err(self.unexpected()),
            }
        }
        Ok(out)
    }

    fn statement(&mut self) -> Result<Statement, ShellError> {
        if self.peek() == Some('$') {
            let save = self.i;
            let target = self.postfix()?;
            self.ws();
            if self.peek() == Some('=') && self.peek_at(1) != Some('=') {
                self.i += 1;
                self.ws_nl();
                if matches!(self.peek(), None | Some(';' | '|')) {
                    return Err(self.err(
                        self.i,
                        1,
                        "ExpectedValueExpression",
                        "You must provide a value expression following the '=' operator.",
                    ));
                }
                let value = self.pipeline()?;
                return Ok(Statement::Assign { target, value });
            }
            self.i = save;
        }
        Ok(Statement::Pipeline(self.pipeline()?))
    }

    fn pipeline(&mut self) -> Result<Pipeline, ShellError> {
        let mut elements = vec![self.element(true)?];
        loop {
            self.ws();
            if self.peek() == Some('|') && self.peek_at(1) != Some('|') {
                let bar = self.i;
                self.i += 1;
                self.ws_nl();
                if matches!(self.peek(), None | Some(';' | '|' | ')' | '}')) {
                    return Err(self.err(
                        bar + 1,
                        1,
                        "EmptyPipeElement",
                        "An empty pipe element is not allowed.",
                    ));
                }
                elements.push(self.element(false)?);
            } else {
                break;
            }
        }
        Ok(Pipeline { elements })
    }

    fn starts_expression(&self) -> bool {
        match self.peek() {
            Some('$' | '(' | '@' | '!' | '{') => true,
            Some(c) if is_single_quote(c) || is_double_quote(c) => true,
            Some(c) if c.is_ascii_digit() => {
                // a number only if the whole word is one
                let mut j = self.i;
                while j < self.s.len() && self.s[j].is_ascii_digit() {
                    j += 1;
                }
                j >= self.s.len() || ends_word(self.s[j])
            }
            Some(c) if is_dash(c) => {
                let word: String = self.s[self.i + 1..]
                    .iter()
                    .take_while(|c| c.is_alphabetic())
                    .collect();
                word.eq_ignore_ascii_case("not")
            }
            _ => false,
        }
    }

    fn element(&mut self, first: bool) -> Result<Element, ShellError> {
        if self.starts_expression() {
            if !first {
                return Err(self.err(
                    self.i,
                    1,
                    "ExpressionsMustBeFirstInPipeline",
                    "Expressions are only allowed as the first element of a pipeline.",
                ));
            }
            return Ok(Element::Expr(self.expr()?));
        }
        let pos = self.i;
        let name = self.word();
        if name.is_empty() {
            return Err(self.unexpected());
        }
        let mut args = Vec::new();
        let mut redirect = None;
        loop {
            self.ws();
            match self.peek() {
                None | Some('|' | ';' | ')' | '}' | '\n' | '\r') => break,
                Some('>') => {
                    let gt = self.i;
                    self.i += 1;
                    if self.peek() == Some('>') {
                        self.i += 1;
                    }
                    self.ws();
                    if matches!(
                        self.peek(),
                        None | Some('|' | ';' | ')' | '}' | '\n' | '\r')
                    ) {
                        if self.peek().is_none() {
                            self.notes.push(TRAILING_GT_NOTE.to_string());
                            break;
                        }
                        return Err(self.err(
                            gt,
                            1,
                            "MissingFileSpecification",
                            "Missing file specification after redirection operator.",
                        ));
                    }
                    redirect = Some(self.word());
                }
                Some('<') => {
                    return Err(self.err(
                        self.i,
                        1,
                        "RedirectionNotSupported",
                        "The '<' operator is reserved for future use.",
                    ))
                }
                Some(c)
                    if is_dash(c)
                        && self
                            .peek_at(1)
                            .is_some_and(|n| n.is_alphabetic() || n == '_' || n == '?') =>
                {
                    let ppos = self.i;
                    self.i += 1;
                    let mut name = String::new();
                    while let Some(c) = self.peek() {
                        if ends_word(c) || c == ':' {
                            break;
                        }
                        name.push(c);
                        self.i += 1;
                    }
                    let mut value = None;
                    if self.peek() == Some(':') {
                        self.i += 1;
                        value = Some(self.arg_value()?);
                    }
                    let raw: String = self.s[ppos..self.i].iter().collect();
                    args.push(Arg::Param {
                        name,
                        pos: ppos,
                        value,
                        raw,
                    });
                }
                Some(_) => args.push(Arg::Value(self.arg_value()?)),
            }
        }
        Ok(Element::Command(Command {
            name,
            pos,
            args,
            redirect,
        }))
    }

    /// A bare word in argument mode.
    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if ends_word(c) {
                break;
            }
            if c == '`' {
                if let Some(n) = self.peek_at(1) {
                    w.push(n);
                    self.i += 2;
                    continue;
                }
            }
            w.push(c);
            self.i += 1;
        }
        w
    }

    fn arg_value(&mut self) -> Result<Expr, ShellError> {
        let pos = self.i;
        let first = self.arg_primary()?;
        let mut items = vec![first];
        loop {
            let save = self.i;
            self.ws();
            if self.peek() == Some(',') {
                self.i += 1;
                self.ws_nl();
                if matches!(self.peek(), None | Some('|' | ';' | ')' | '}')) {
                    return Err(self.err(
                        self.i.saturating_sub(1),
                        1,
                        "MissingExpression",
                        "Missing argument in parameter list.",
                    ));
                }
                items.push(self.arg_primary()?);
            } else {
                self.i = save;
                break;
            }
        }
        if items.len() == 1 {
            Ok(items.remove(0))
        } else {
            Ok(Expr {
                kind: ExprKind::Array(items),
                pos,
            })
        }
    }

    fn arg_primary(&mut self) -> Result<Expr, ShellError> {
        let pos = self.i;
        match self.peek() {
            Some(c) if c == '$' || c == '(' || c == '@' || c == '{' => self.postfix(),
            Some(c) if is_single_quote(c) || is_double_quote(c) => self.postfix(),
            Some(',') => Err(self.err(
                pos,
                1,
                "MissingArgument",
                "Missing argument in parameter list.",
            )),
            _ => {
                let w = self.word();
                if w.is_empty() {
                    return Err(self.unexpected());
                }
                if let Ok(n) = w.parse::<i64>() {
                    return Ok(Expr {
                        kind: ExprKind::Int(n),
                        pos,
                    });
                }
                Ok(Expr {
                    kind: ExprKind::Bare(w),
                    pos,
                })
            }
        }
    }

    /// `-name` operator keyword at the cursor (after whitespace), without consuming.
    fn peek_operator(&self) -> Option<(String, usize)> {
        let c = self.peek()?;
        if !is_dash(c) {
            return None;
        }
        let word: String = self.s[self.i + 1..]
            .iter()
            .take_while(|c| c.is_alphabetic())
            .collect();
        if word.is_empty() {
            return None;
        }
        Some((word.to_ascii_lowercase(), word.chars().count() + 1))
    }

    fn expr(&mut self) -> Result<Expr, ShellError> {
        let mut left = self.and_expr()?;
        loop {
            self.ws();
            match self.peek_operator() {
                Some((w, n)) if w == "or" || w == "xor" => {
                    let op = if w == "or" { BinOp::Or } else { BinOp::Xor };
                    let opos = self.i;
                    self.i += n;
                    self.ws_nl();
                    let right = self.operand(opos, n, Self::and_expr)?;
                    let pos = left.pos;
                    left = Expr {
                        kind: ExprKind::Binary(op, Box::new(left), Box::new(right), false),
                        pos,
                    };
                }
                _ => return Ok(left),
            }
        }
    }

    fn operand(
        &mut self,
        opos: usize,
        n: usize,
        f: fn(&mut Self) -> Result<Expr, ShellError>,
    ) -> Result<Expr, ShellError> {
        if matches!(self.peek(), None | Some('|' | ';' | ')' | '}')) {
            let op: String = self.s[opos..opos + n].iter().collect();
            return Err(self.err(
                opos + n,
                1,
                "ExpectedValueExpression",
                format!("You must provide a value expression following the '{op}' operator."),
            ));
        }
        f(self)
    }

    fn and_expr(&mut self) -> Result<Expr, ShellError> {
        let mut left = self.cmp_expr()?;
        loop {
            self.ws();
            match self.peek_operator() {
                Some((w, n)) if w == "and" => {
                    let opos = self.i;
                    self.i += n;
                    self.ws_nl();
                    let right = self.operand(opos, n, Self::cmp_expr)?;
                    let pos = left.pos;
                    left = Expr {
                        kind: ExprKind::Binary(BinOp::And, Box::new(left), Box::new(right), false),
                        pos,
                    };
                }
                _ => return Ok(left),
            }
        }
    }

    fn cmp_expr(&mut self) -> Result<Expr, ShellError> {
        let mut left = self.array_expr()?;
        loop {
            self.ws();
            let Some((w, n)) = self.peek_operator() else {
                return Ok(left);
            };
            let (case, base) = if let Some(b) = w.strip_prefix('c') {
                (true, b.to_string())
            } else if let Some(b) = w.strip_prefix('i') {
                (false, b.to_string())
            } else {
                (false, w.clone())
            };
            let op = CMP_OPS
                .iter()
                .find(|(name, _)| *name == base || *name == w)
                .map(|(_, op)| *op);
            let Some(op) = op else {
                if matches!(w.as_str(), "and" | "or" | "xor") {
                    return Ok(left);
                }
                let tok: String = self.s[self.i..self.i + n].iter().collect();
                return Err(self.err(
                    self.i,
                    n,
                    "UnexpectedToken",
                    format!("Unexpected token '{tok}' in expression or statement."),
                ));
            };
            // `-in`/`-contains` spelled in full take precedence over the c/i prefixes
            let case = case && CMP_OPS.iter().all(|(name, _)| *name != w);
            let opos = self.i;
            self.i += n;
            self.ws_nl();
            let right = self.operand(opos, n, Self::array_expr)?;
            let pos = left.pos;
            left = Expr {
                kind: ExprKind::Binary(op, Box::new(left), Box::new(right), case),
                pos,
            };
        }
    }

    fn array_expr(&mut self) -> Result<Expr, ShellError> {
        let pos = self.i;
        let first = self.unary()?;
        let mut items = vec![first];
        loop {
            let save = self.i;
            self.ws();
            if self.peek() == Some(',') {
                let cpos = self.i;
                self.i += 1;
                self.ws_nl();
                if matches!(self.peek(), None | Some('|' | ';' | ')' | '}')) {
                    return Err(self.err(
                        cpos,
                        1,
                        "MissingExpressionAfterToken",
                        "Missing expression after ','.",
                    ));
                }
                items.push(self.unary()?);
            } else {
                self.i = save;
                break;
            }
        }
        if items.len() == 1 {
            Ok(items.remove(0))
        } else {
            Ok(Expr {
                kind: ExprKind::Array(items),
                pos,
            })
        }
    }

    fn unary(&mut self) -> Result<Expr, ShellError> {
        let pos = self.i;
        let not_len = match (self.peek(), self.peek_operator()) {
            (Some('!'), _) => Some(1),
            (_, Some((w, n))) if w == "not" => Some(n),
            _ => None,
        };
        if let Some(n) = not_len {
            if self.depth >= MAX_NESTING {
                return Err(self.err(
                    pos,
                    n,
                    "LabNestingTooDeep",
                    format!("The lab parses at most {MAX_NESTING} nested brackets."),
                ));
            }
            self.i += n;
            self.ws_nl();
            if matches!(self.peek(), None | Some('|' | ';' | ')' | '}')) {
                let op: String = self.s[pos..pos + n].iter().collect();
                return Err(self.err(
                    pos + n,
                    1,
                    "MissingExpressionAfterOperator",
                    format!("Missing expression after unary operator '{op}'."),
                ));
            }
            self.depth += 1;
            let inner = self.unary();
            self.depth -= 1;
            let inner = inner?;
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                pos,
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, ShellError> {
        let mut e = self.primary()?;
        loop {
            match self.peek() {
                Some('.') if self.peek_at(1).is_some_and(is_ident) => {
                    self.i += 1;
                    let name = self.ident();
                    if self.peek() == Some('(') {
                        let open = self.i;
                        self.i += 1;
                        let mut args = Vec::new();
                        self.ws_nl();
                        if self.peek() == Some(')') {
                            self.i += 1;
                        } else {
                            loop {
                                self.ws_nl();
                                args.push(self.cmp_no_array()?);
                                self.ws_nl();
                                match self.peek() {
                                    Some(',') => self.i += 1,
                                    Some(')') => {
                                        self.i += 1;
                                        break;
                                    }
                                    _ => {
                                        return Err(self.err(
                                            open,
                                            1,
                                            "MissingEndParenthesisInMethodCall",
                                            "Missing closing ')' in expression.",
                                        ))
                                    }
                                }
                            }
                        }
                        let pos = e.pos;
                        e = Expr {
                            kind: ExprKind::Method(Box::new(e), name, args),
                            pos,
                        };
                    } else {
                        let pos = e.pos;
                        e = Expr {
                            kind: ExprKind::Member(Box::new(e), name),
                            pos,
                        };
                    }
                }
                Some('[') => {
                    let open = self.i;
                    self.i += 1;
                    self.ws_nl();
                    let idx = self.expr()?;
                    self.ws_nl();
                    if self.peek() != Some(']') {
                        return Err(self.err(
                            open,
                            1,
                            "MissingEndSquareBracket",
                            "Missing ']' after array index expression.",
                        ));
                    }
                    self.i += 1;
                    let pos = e.pos;
                    e = Expr {
                        kind: ExprKind::Index(Box::new(e), Box::new(idx)),
                        pos,
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    /// A method argument: a comparison without the array comma (the comma separates arguments).
    fn cmp_no_array(&mut self) -> Result<Expr, ShellError> {
        self.unary()
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if is_ident(c) {
                s.push(c);
                self.i += 1;
            } else {
                break;
            }
        }
        s
    }

    fn primary(&mut self) -> Result<Expr, ShellError> {
        if self.depth >= MAX_NESTING {
            return Err(self.err(
                self.i,
                1,
                "LabNestingTooDeep",
                format!("The lab parses at most {MAX_NESTING} nested brackets."),
            ));
        }
        self.depth += 1;
        let r = self.primary_inner();
        self.depth -= 1;
        r
    }

    fn primary_inner(&mut self) -> Result<Expr, ShellError> {
        let pos = self.i;
        let Some(c) = self.peek() else {
            return Err(self.err(
                pos,
                1,
                "ExpectedExpression",
                "An expression was expected after '('.",
            ));
        };
        let kind = if c == '$' {
            self.i += 1;
            match self.peek() {
                Some('(') => {
                    self.i += 1;
                    ExprKind::Sub(Box::new(self.paren_body(pos)?))
                }
                Some('_') if !self.peek_at(1).is_some_and(is_ident) => {
                    self.i += 1;
                    ExprKind::Var("_".into())
                }
                Some('{') => {
                    self.i += 1;
                    let mut n = String::new();
                    while let Some(c) = self.peek() {
                        self.i += 1;
                        if c == '}' {
                            break;
                        }
                        n.push(c);
                    }
                    ExprKind::Var(n)
                }
                Some(c) if is_ident(c) || c == '?' => {
                    let n = if c == '?' {
                        self.i += 1;
                        "?".to_string()
                    } else {
                        self.ident()
                    };
                    ExprKind::Var(n)
                }
                _ => ExprKind::Str("$".into()),
            }
        } else if c == '(' {
            self.i += 1;
            ExprKind::Sub(Box::new(self.paren_body(pos)?))
        } else if c == '@' && self.peek_at(1) == Some('{') {
            self.i += 2;
            ExprKind::Hash(self.hash_body(pos)?)
        } else if c == '@' && self.peek_at(1) == Some('(') {
            self.i += 2;
            self.ws_nl();
            if self.peek() == Some(')') {
                self.i += 1;
                ExprKind::Array(Vec::new())
            } else {
                ExprKind::Sub(Box::new(self.paren_body(pos)?))
            }
        } else if c == '{' {
            self.i += 1;
            let start = self.i;
            let statements = self.statements(Some('}'))?;
            if self.peek() != Some('}') {
                return Err(self.err(
                    pos,
                    1,
                    "MissingEndCurlyBrace",
                    "Missing closing '}' in statement block or type definition.",
                ));
            }
            let body: String = self.s[start..self.i].iter().collect();
            self.i += 1;
            ExprKind::Script(Arc::new(ScriptBlock {
                statements,
                text: body,
            }))
        } else if is_single_quote(c) {
            self.i += 1;
            let mut s = String::new();
            loop {
                match self.peek() {
                    None => {
                        return Err(self.err(
                            pos,
                            1,
                            "TerminatorExpectedAtEndOfString",
                            "The string is missing the terminator: '.",
                        ))
                    }
                    Some(q) if is_single_quote(q) => {
                        if self.peek_at(1).is_some_and(is_single_quote) {
                            s.push('\'');
                            self.i += 2;
                        } else {
                            self.i += 1;
                            break;
                        }
                    }
                    Some(ch) => {
                        s.push(ch);
                        self.i += 1;
                    }
                }
            }
            ExprKind::Str(s)
        } else if is_double_quote(c) {
            self.i += 1;
            let mut s = String::new();
            loop {
                match self.peek() {
                    None => {
                        return Err(self.err(
                            pos,
                            1,
                            "TerminatorExpectedAtEndOfString",
                            "The string is missing the terminator: \".",
                        ))
                    }
                    Some('`') => {
                        let n = self.peek_at(1).unwrap_or('`');
                        s.push(match n {
                            'n' => '\n',
                            't' => '\t',
                            'r' => '\r',
                            '0' => '\0',
                            // keep an escaped `$` from expanding
                            '$' => '\u{E000}',
                            o => o,
                        });
                        self.i += 2;
                    }
                    Some(q) if is_double_quote(q) => {
                        if self.peek_at(1).is_some_and(is_double_quote) {
                            s.push('"');
                            self.i += 2;
                        } else {
                            self.i += 1;
                            break;
                        }
                    }
                    Some(ch) => {
                        s.push(ch);
                        self.i += 1;
                    }
                }
            }
            ExprKind::Expandable(s)
        } else if c.is_ascii_digit() {
            let mut w = String::new();
            while let Some(d) = self.peek() {
                if d.is_ascii_alphanumeric() || d == '.' {
                    w.push(d);
                    self.i += 1;
                } else {
                    break;
                }
            }
            match w.parse::<i64>() {
                Ok(n) => ExprKind::Int(n),
                Err(_) => {
                    return Err(self.err(
                        pos,
                        w.chars().count(),
                        "BadNumericConstant",
                        format!("The numeric constant {w} is not valid."),
                    ))
                }
            }
        } else {
            return Err(self.unexpected());
        };
        Ok(Expr { kind, pos })
    }

    /// `key = value` pairs up to the closing `}` of a hash literal.
    fn hash_body(&mut self, open: usize) -> Result<Vec<(String, Expr)>, ShellError> {
        let mut pairs = Vec::new();
        loop {
            self.ws_nl();
            while self.peek() == Some(';') {
                self.i += 1;
                self.ws_nl();
            }
            match self.peek() {
                Some('}') => {
                    self.i += 1;
                    return Ok(pairs);
                }
                None => {
                    return Err(self.err(
                        open,
                        2,
                        "IncompleteHashLiteral",
                        "The hash literal was incomplete.",
                    ))
                }
                _ => {}
            }
            let kpos = self.i;
            let key = match self.peek() {
                Some(q) if is_single_quote(q) || is_double_quote(q) => {
                    match self.primary_inner()?.kind {
                        ExprKind::Str(k) | ExprKind::Expandable(k) => k,
                        _ => String::new(),
                    }
                }
                _ => self.ident(),
            };
            if key.is_empty() {
                return Err(self.err(
                    kpos,
                    1,
                    "MissingKeyInHashLiteral",
                    "Missing key before '=' in hash literal.",
                ));
            }
            self.ws_nl();
            if self.peek() != Some('=') {
                return Err(self.err(
                    self.i,
                    1,
                    "MissingEqualsInHashLiteral",
                    "Missing '=' operator after key in hash literal.",
                ));
            }
            self.i += 1;
            self.ws_nl();
            if matches!(self.peek(), None | Some(';' | '}')) {
                return Err(self.err(
                    self.i,
                    1,
                    "MissingStatementInHashLiteral",
                    "Missing statement after '=' in hash literal.",
                ));
            }
            let value = self.expr()?;
            pairs.push((key, value));
        }
    }

    fn paren_body(&mut self, open: usize) -> Result<Pipeline, ShellError> {
        self.ws_nl();
        if self.peek() == Some(')') {
            return Err(self.err(
                self.i,
                1,
                "ExpectedExpression",
                "An expression was expected after '('.",
            ));
        }
        let p = match self.statement()? {
            Statement::Pipeline(p) => p,
            Statement::Assign { .. } => {
                return Err(self.err(
                    open,
                    1,
                    "UnexpectedToken",
                    "Assignments are not supported inside parentheses in the lab.",
                ))
            }
        };
        self.ws_nl();
        if self.peek() != Some(')') {
            if self.peek().is_none() {
                return Err(self.err(
                    open,
                    1,
                    "MissingEndParenthesisInExpression",
                    "Missing closing ')' in expression.",
                ));
            }
            return Err(self.unexpected());
        }
        self.i += 1;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> Command {
        let s = parse_line(line).unwrap();
        match &s.statements[0] {
            Statement::Pipeline(p) => match &p.elements[0] {
                Element::Command(c) => c.clone(),
                e => panic!("not a command: {e:?}"),
            },
            s => panic!("not a pipeline: {s:?}"),
        }
    }

    #[test]
    fn strips_pasted_prompts() {
        assert_eq!(
            strip_prompt("[PS] C:\\Windows\\system32>Get-Mailbox"),
            "Get-Mailbox"
        );
        assert_eq!(
            strip_prompt("[PS] C:WINDOWSsystem32> Get-Mailbox"),
            "Get-Mailbox"
        );
        assert_eq!(strip_prompt("PS C:\\> iisreset"), "iisreset");
        assert_eq!(strip_prompt("ps -x"), "ps -x");
    }

    #[test]
    fn named_positional_and_array_arguments() {
        let c = cmd("Set-AuthServer EvoSTS -IsDefaultAuthorizationEndpoint $true");
        assert_eq!(c.name, "Set-AuthServer");
        assert_eq!(c.args.len(), 3);
        assert!(
            matches!(&c.args[0], Arg::Value(Expr { kind: ExprKind::Bare(w), .. }) if w == "EvoSTS")
        );
        assert!(
            matches!(&c.args[1], Arg::Param { name, pos: 22, .. } if name == "IsDefaultAuthorizationEndpoint")
        );
        let c = cmd("Set-MapiVirtualDirectory -IISAuthenticationMethods Ntlm, OAuth, Negotiate");
        match &c.args[1] {
            Arg::Value(Expr {
                kind: ExprKind::Array(items),
                ..
            }) => assert_eq!(items.len(), 3),
            a => panic!("{a:?}"),
        }
        let c = cmd("fl server,*url*,*auth*");
        assert_eq!(c.args.len(), 1);
    }

    #[test]
    fn colon_form_and_member_access_in_argument_mode() {
        let c = cmd("Set-X -Enabled:$false -Names $x.ServicePrincipalNames");
        assert!(matches!(&c.args[0], Arg::Param { value: Some(_), .. }));
        assert!(matches!(
            &c.args[2],
            Arg::Value(Expr {
                kind: ExprKind::Member(_, m),
                ..
            }) if m == "ServicePrincipalNames"
        ));
    }

    #[test]
    fn expressions_assignments_and_script_blocks() {
        let s = parse_line(
            "$x= Get-MsolServicePrincipal -AppPrincipalId 00000002-0000-0ff1-ce00-000000000000",
        )
        .unwrap();
        assert!(matches!(s.statements[0], Statement::Assign { .. }));
        let s = parse_line("$x.ServicePrincipalnames.Add(\"https://owa.contoso.com/\")").unwrap();
        match &s.statements[0] {
            Statement::Pipeline(p) => assert!(matches!(
                &p.elements[0],
                Element::Expr(Expr {
                    kind: ExprKind::Method(_, m, a),
                    ..
                }) if m == "Add" && a.len() == 1
            )),
            s => panic!("{s:?}"),
        }
        let s = parse_line("Get-AuthServer | where {$_.Name -eq \"EvoSts\" -and -not $_.Enabled}")
            .unwrap();
        match &s.statements[0] {
            Statement::Pipeline(p) => assert_eq!(p.elements.len(), 2),
            s => panic!("{s:?}"),
        }
        parse_line("(Get-OrganizationConfig).OAuth2ClientProfileEnabled").unwrap();
    }

    #[test]
    fn comments_and_native_lines() {
        let c = cmd("iisreset /noforce # restart IIS");
        assert_eq!(c.args.len(), 1);
        let c = cmd("reg add HKCU\\SOFTWARE\\Microsoft\\Office\\15.0\\Common\\Identity /v EnableADAL /t REG_DWORD /d 1 /f");
        assert_eq!(c.args.len(), 9);
        let c = cmd("defaults write com.microsoft.Outlook DisableModernAuth -bool NO");
        assert!(matches!(&c.args[3], Arg::Param { raw, .. } if raw == "-bool"));
        assert!(parse_line("# only a comment")
            .unwrap()
            .statements
            .is_empty());
    }

    #[test]
    fn trailing_gt_is_noted_and_redirection_without_file_mid_line_fails() {
        let s = parse_line("Get-OABVirtualDirectory | FL server,*url*>").unwrap();
        assert_eq!(s.notes, vec![TRAILING_GT_NOTE.to_string()]);
        let e = parse_line("Get-Mailbox > | fl").unwrap_err();
        assert_eq!(
            e.message,
            "Missing file specification after redirection operator."
        );
    }

    #[test]
    fn parse_errors_name_the_column() {
        let e = parse_line("(Get-OrganizationConfig").unwrap_err();
        assert_eq!(e.message, "Missing closing ')' in expression.");
        assert_eq!(e.column, 1);
        assert_eq!(e.error_id, "MissingEndParenthesisInExpression");
        let e = parse_line("Get-AuthServer | where {$_.Name -eq \"EvoSts\"").unwrap_err();
        assert_eq!(
            e.message,
            "Missing closing '}' in statement block or type definition."
        );
        assert_eq!(e.column, 24);
        let e = parse_line("Set-AuthServer EvoSts -Name 'x").unwrap_err();
        assert_eq!(e.message, "The string is missing the terminator: '.");
        let e = parse_line("Get-Mailbox |").unwrap_err();
        assert_eq!(e.message, "An empty pipe element is not allowed.");
        assert_eq!(e.column, 14);
        let e = parse_line("$x = ").unwrap_err();
        assert_eq!(
            e.message,
            "You must provide a value expression following the '=' operator."
        );
        let e = parse_line("$a -eq").unwrap_err();
        assert_eq!(
            e.message,
            "You must provide a value expression following the '-eq' operator."
        );
        let e = parse_line("Get-Mailbox | $x").unwrap_err();
        assert_eq!(
            e.message,
            "Expressions are only allowed as the first element of a pipeline."
        );
        let e = parse_line("Get-Mailbox < in.txt").unwrap_err();
        assert_eq!(e.message, "The '<' operator is reserved for future use.");
        assert!(e
            .render()
            .starts_with("At line:1 char:13\n+ Get-Mailbox < in.txt\n+             ~\n"));
    }

    #[test]
    fn curly_quotes_pasted_from_the_web_are_quotes() {
        let s = parse_line("Set-AuthServer \u{201C}EvoSts\u{201D} -Enabled $true").unwrap();
        assert_eq!(s.statements.len(), 1);
    }
}
