//! `hma-lab lint` and scenario validation: checks a line without running it.
//!
//! A line must parse, every command must exist, and every `-Parameter` must name exactly one
//! parameter of its cmdlet — the same lookups the evaluator and the binder make, with the same
//! error records, but no values (they may come from variables set by earlier lines).

use super::ast::*;
use super::binder;
use super::cmdlets::{self, Resolved};
use super::error::{catalogue, nearest, ShellError};
use super::parser::{parse_line, strip_prompt};

type R<T> = Result<T, ShellError>;

/// Checks a line without running it (for `hma-lab lint` and scenario validation): it must parse,
/// every command must exist, and every `-Parameter` must name exactly one parameter of its
/// cmdlet. Values are not checked (they may come from variables set by earlier lines).
pub fn lint(line: &str) -> R<()> {
    let script = parse_line(line)?;
    let text = strip_prompt(line);
    fn pipeline(p: &Pipeline, text: &str) -> R<()> {
        for el in &p.elements {
            match el {
                Element::Expr(e) => expr(e, text)?,
                Element::Command(c) => {
                    let width = c.name.chars().count();
                    match cmdlets::resolve(&c.name) {
                        None => {
                            let hint = nearest(&c.name, cmdlets::command_names())
                                .map(|n| format!("did you mean {n}?"));
                            return Err(catalogue::command_not_found(&c.name)
                                .at(text, c.pos, width)
                                .with_hint(hint));
                        }
                        Some(Resolved::Native(_)) => {}
                        Some(Resolved::Cmdlet(spec)) => {
                            for a in &c.args {
                                if let Arg::Param { name, pos, raw, .. } = a {
                                    binder::find_param(&spec.sig, name)
                                        .map_err(|e| e.at(text, *pos, raw.chars().count()))?;
                                }
                            }
                        }
                    }
                    for a in &c.args {
                        match a {
                            Arg::Param { value: Some(e), .. } | Arg::Value(e) => expr(e, text)?,
                            Arg::Param { value: None, .. } => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }
    fn statements(sts: &[Statement], text: &str) -> R<()> {
        for st in sts {
            match st {
                Statement::Pipeline(p) => pipeline(p, text)?,
                Statement::Assign { value, .. } => pipeline(value, text)?,
            }
        }
        Ok(())
    }
    fn expr(e: &Expr, text: &str) -> R<()> {
        match &e.kind {
            ExprKind::Sub(p) | ExprKind::ArraySub(p) => pipeline(p, text),
            ExprKind::Script(sb) => statements(&sb.statements, text),
            ExprKind::Array(items) => items.iter().try_for_each(|i| expr(i, text)),
            ExprKind::Hash(pairs) => pairs.iter().try_for_each(|(_, v)| expr(v, text)),
            ExprKind::Member(t, _) | ExprKind::Not(t) => expr(t, text),
            ExprKind::Method(t, _, args) => {
                expr(t, text)?;
                args.iter().try_for_each(|a| expr(a, text))
            }
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b, _) => {
                expr(a, text)?;
                expr(b, text)
            }
            _ => Ok(()),
        }
    }
    statements(&script.statements, text)
}
