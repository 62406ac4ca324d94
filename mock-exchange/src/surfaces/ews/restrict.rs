//! FindItem `Restriction` evaluation for the properties the lab's messages have.
//!
//! Supports the search-expression elements exchangelib and ews-javascript-api emit for simple
//! filters: And, Or, Not, IsEqualTo, IsNotEqualTo, IsGreaterThan(OrEqualTo),
//! IsLessThan(OrEqualTo), Contains (all ContainmentModes; IgnoreCase/Loose comparisons) and
//! Exists, over `item:Subject`, `item:Body`, `item:ItemClass`, `item:DateTimeReceived`,
//! `item:DateTimeSent`, `item:DateTimeCreated`, `item:Size`, `item:IsDraft`, `message:IsRead`,
//! `message:From`, `message:Sender`, `message:InternetMessageId`. Another property answers
//! `ErrorUnsupportedPathForQuery`; a structurally broken expression `ErrorInvalidRestriction`.
//! Recursion is bounded by the XML tree's depth cap.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::soap::Code;
use crate::surfaces::store::Item;
use crate::surfaces::xml::{Element, NS_T};

#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Val {
    S(String),
    B(bool),
    T(OffsetDateTime),
    N(i64),
}

fn field<'e>(el: &'e Element<'_>) -> Result<&'e str, Code> {
    el.child(NS_T, "FieldURI")
        .and_then(|f| f.attr("FieldURI"))
        .ok_or(Code::InvalidRestriction)
}

fn value_of(uri: &str, it: &Item) -> Result<Option<Val>, Code> {
    Ok(Some(match uri {
        "item:Subject" => Val::S(it.subject.clone()),
        "item:Body" => Val::S(it.body.clone()),
        "item:ItemClass" => Val::S(it.item_class.clone()),
        "item:DateTimeReceived" => Val::T(it.received),
        "item:DateTimeSent" => Val::T(it.sent),
        "item:DateTimeCreated" => Val::T(it.created),
        "item:Size" => Val::N(it.size() as i64),
        "item:IsDraft" => Val::B(it.is_draft),
        "message:IsRead" => Val::B(it.is_read),
        "message:InternetMessageId" => Val::S(it.internet_message_id.clone()),
        "message:From" | "message:Sender" => match &it.from {
            Some(a) => Val::S(a.email.clone()),
            None => return Ok(None),
        },
        _ => return Err(Code::UnsupportedPathForQuery),
    }))
}

/// Parses a constant in the type of the property it is compared with.
fn constant(like: &Val, raw: &str) -> Result<Val, Code> {
    Ok(match like {
        Val::S(_) => Val::S(raw.to_string()),
        Val::B(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Val::B(true),
            "false" | "0" => Val::B(false),
            _ => return Err(Code::InvalidRestriction),
        },
        Val::T(_) => Val::T(
            OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| Code::InvalidRestriction)?,
        ),
        Val::N(_) => Val::N(raw.trim().parse().map_err(|_| Code::InvalidRestriction)?),
    })
}

fn compare(el: &Element, it: &Item) -> Result<Option<std::cmp::Ordering>, Code> {
    let uri = field(el)?;
    let Some(v) = value_of(uri, it)? else {
        return Ok(None);
    };
    let raw = el
        .child(NS_T, "FieldURIOrConstant")
        .and_then(|c| c.child(NS_T, "Constant"))
        .and_then(|c| c.attr("Value"))
        .ok_or(Code::InvalidRestriction)?;
    let c = constant(&v, raw)?;
    let ord = match (&v, &c) {
        (Val::S(a), Val::S(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        _ => v.partial_cmp(&c),
    };
    Ok(ord)
}

fn contains(el: &Element, it: &Item) -> Result<bool, Code> {
    let uri = field(el)?;
    let Some(Val::S(hay)) = value_of(uri, it)? else {
        return Ok(false);
    };
    let needle = el
        .child(NS_T, "Constant")
        .and_then(|c| c.attr("Value"))
        .ok_or(Code::InvalidRestriction)?;
    let fold = el
        .attr("ContainmentComparison")
        .is_some_and(|c| c.contains("IgnoreCase") || c == "Loose");
    let (hay, needle) = if fold {
        (hay.to_lowercase(), needle.to_lowercase())
    } else {
        (hay, needle.to_string())
    };
    Ok(match el.attr("ContainmentMode").unwrap_or("Substring") {
        "FullString" => hay == needle,
        "Prefixed" => hay.starts_with(&needle),
        "PrefixOnWords" => hay.split_whitespace().any(|w| w.starts_with(&needle)),
        _ => hay.contains(&needle),
    })
}

/// Whether `it` satisfies the search expression `el`.
pub fn matches(el: &Element, it: &Item) -> Result<bool, Code> {
    use std::cmp::Ordering::*;
    if &*el.ns != NS_T {
        return Err(Code::InvalidRestriction);
    }
    Ok(match &*el.name {
        "And" => {
            for c in &el.children {
                if !matches(c, it)? {
                    return Ok(false);
                }
            }
            true
        }
        "Or" => {
            for c in &el.children {
                if matches(c, it)? {
                    return Ok(true);
                }
            }
            false
        }
        "Not" => !matches(el.children.first().ok_or(Code::InvalidRestriction)?, it)?,
        "IsEqualTo" => compare(el, it)? == Some(Equal),
        "IsNotEqualTo" => compare(el, it)? != Some(Equal),
        "IsGreaterThan" => compare(el, it)? == Some(Greater),
        "IsGreaterThanOrEqualTo" => matches!(compare(el, it)?, Some(Greater | Equal)),
        "IsLessThan" => compare(el, it)? == Some(Less),
        "IsLessThanOrEqualTo" => matches!(compare(el, it)?, Some(Less | Equal)),
        "Contains" => contains(el, it)?,
        "Exists" => value_of(field(el)?, it)?.is_some(),
        _ => return Err(Code::InvalidRestriction),
    })
}
