//! Tab completion for `hma-lab shell`: cmdlet names in command position, parameter names after
//! `-` (the cmdlet's own, then the common ones), matched case-insensitively by prefix.
//!
//! Completion works on the unfinished line as typed, which may not parse yet, so it looks only
//! at the last pipeline segment's first word and the word under the cursor.

use super::cmdlets::{self, Resolved};

/// Completions for the word at the end of `line` (whole words, sorted, without duplicates).
pub fn complete(line: &str) -> Vec<String> {
    let segment = line.rsplit(['|', ';', '{', '(']).next().unwrap_or(line);
    let ends_with_space = segment.ends_with(char::is_whitespace);
    let words: Vec<&str> = segment.split_whitespace().collect();
    let current = if ends_with_space {
        ""
    } else {
        words.last().copied().unwrap_or("")
    };
    let in_command_position = words.is_empty() || (words.len() == 1 && !ends_with_space);
    let mut out: Vec<String> = Vec::new();
    if in_command_position {
        let lower = current.to_ascii_lowercase();
        for spec in cmdlets::all() {
            for name in std::iter::once(spec.name()).chain(spec.aliases.iter().copied()) {
                if name.to_ascii_lowercase().starts_with(&lower) {
                    out.push(name.to_string());
                }
            }
        }
        for name in cmdlets::command_names() {
            if name.to_ascii_lowercase().starts_with(&lower) {
                out.push(name.to_string());
            }
        }
    } else if let Some(prefix) = current.strip_prefix('-') {
        if let Some(Resolved::Cmdlet(spec)) = words.first().and_then(|w| cmdlets::resolve(w)) {
            let lower = prefix.to_ascii_lowercase();
            for p in spec.sig.all_params() {
                if p.name.to_ascii_lowercase().starts_with(&lower) {
                    out.push(format!("-{}", p.name));
                }
            }
        }
    }
    out.sort_by_key(|s| s.to_ascii_lowercase());
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_cmdlets_and_parameters() {
        assert_eq!(
            complete("Get-Mapi"),
            vec!["Get-MapiVirtualDirectory".to_string()]
        );
        assert_eq!(
            complete("Get-MapiVirtualDirectory | Set-MapiVirtualDirectory -IIS"),
            vec!["-IISAuthenticationMethods".to_string()]
        );
        assert_eq!(
            complete("Set-AuthServer EvoSts -IsD"),
            vec!["-IsDefaultAuthorizationEndpoint".to_string()]
        );
        assert!(complete("Set-OrganizationConfig -")
            .contains(&"-OAuth2ClientProfileEnabled".to_string()));
        assert!(complete("Get-Mailbox ").is_empty());
        assert_eq!(
            complete("iisr"),
            vec!["iisreset".to_string(), "iisreset.exe".to_string()]
        );
    }
}
