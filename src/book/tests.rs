//! The renderers on hand-made rows, and the runnable-block extractor on hand-made Markdown.

use super::*;
use lab_kit::catalogue::{Fidelity, ParamDoc, ParamSetDoc};

fn aadsts(code: u32, message: &str) -> AadstsDoc {
    AadstsDoc {
        code,
        error: "invalid_grant".into(),
        status: 400,
        message: message.into(),
        when: "wrong password | or locked".into(),
        source: Fidelity::GuideCapture,
    }
}

#[test]
fn aadsts_rows_are_sorted_by_code_and_escaped_for_tables() {
    let page = render_aadsts(&[
        aadsts(700082, "The refresh token has expired due to inactivity."),
        aadsts(
            50126,
            "Error validating credentials due to invalid username or password.",
        ),
    ]);
    assert!(page.starts_with("<!-- Generated from `mock_aad::aadsts::docs()`"));
    assert!(page.lines().next().unwrap().contains(UPDATE_COMMAND));
    let a = page.find("AADSTS50126 |").unwrap();
    let b = page.find("AADSTS700082 |").unwrap();
    assert!(a < b, "{page}");
    assert!(page.contains("| AADSTS50126 | `invalid_grant` | 400 | `Error validating credentials due to invalid username or password.` | wrong password \\| or locked | guide capture |"), "{page}");
    assert!(page.contains("2 code(s)."));
}

#[test]
fn code_spans_survive_backticks_and_pipes() {
    assert_eq!(code("a|b"), "`a\\|b`");
    assert_eq!(code("use `x`"), "`` use `x` ``");
    assert_eq!(code("a ``b`` c"), "```a ``b`` c```");
    assert_eq!(code("`x`"), "`` `x` ``");
    assert_eq!(cell("two\nlines"), "two lines");
    assert_eq!(
        cell("DIR/har/<scenario>.har"),
        "DIR/har/&lt;scenario&gt;.har"
    );
    assert_eq!(code("<tag>"), "`<tag>`");
}

#[test]
fn diagnostics_keep_the_pipelines_order() {
    let row = |code: u32, category: &str, reason: &str| DiagDoc {
        code,
        category: category.into(),
        reason: reason.into(),
        when: "a check".into(),
        source: Fidelity::Inferred,
    };
    let page = render_diagnostics(&[
        row(
            2000001,
            "invalid_token",
            "OAuth token submitted with the request can not be parsed.",
        ),
        row(
            2000000,
            "invalid_signature",
            "The signature of the token is invalid.",
        ),
    ]);
    assert!(page.starts_with("<!-- Generated from `mock_exchange::diag::docs()`"));
    assert!(page.find("| 2000001 |").unwrap() < page.find("| 2000000 |").unwrap());
    assert!(page.contains("| 2000000 | `invalid_signature` | `The signature of the token is invalid.` | a check | inferred |"));
}

#[test]
fn cmdlets_are_grouped_by_family_with_their_parameter_sets() {
    let param = |name: &str, mandatory: bool, position: Option<u8>, modelled: bool| ParamDoc {
        name: name.into(),
        ty: "System.String".into(),
        mandatory,
        position,
        pipeline: false,
        modelled,
    };
    let page = render_cmdlets(&[
        CmdletDoc {
            name: "Set-AuthServer".into(),
            family: "org".into(),
            synopsis: "Changes an AuthServer.".into(),
            sets: vec![ParamSetDoc {
                name: "Identity".into(),
                params: vec![
                    param("Identity", true, Some(0), true),
                    param("TrustAnySSLCertificate", false, None, false),
                ],
            }],
        },
        CmdletDoc {
            name: "Get-MapiVirtualDirectory".into(),
            family: "vdir".into(),
            synopsis: "Lists MAPI virtual directories.".into(),
            sets: vec![ParamSetDoc {
                name: "Identity".into(),
                params: vec![],
            }],
        },
    ]);
    assert!(page.starts_with("<!-- Generated from `hma_lab::shell::cmdlets::docs()`"));
    assert!(
        page.contains("| [`Set-AuthServer`](#set-authserver) | `org` | Changes an AuthServer. |")
    );
    assert!(
        page.find("## Set-AuthServer").unwrap() < page.find("## Get-MapiVirtualDirectory").unwrap()
    );
    assert!(page.contains("`src/shell/cmdlets/vdir.rs`"));
    assert!(page.contains("| `-Identity` | `System.String` | yes | 0 | no | yes |"));
    assert!(page.contains("| `-TrustAnySSLCertificate` | `System.String` | no |  | no | no |"));
    assert!(page.contains("| (none) |"));
}

#[test]
fn scenarios_are_listed_by_name() {
    let page = render_scenarios(&[
        ScenarioDoc {
            name: "ssl-offloading".into(),
            title: "The load balancer offloads SSL".into(),
            guide: "SSL Offloading".into(),
        },
        ScenarioDoc {
            name: "happy-path".into(),
            title: "Outlook 2016 | Bearer".into(),
            guide: "How do I Know I’m Using HMA?".into(),
        },
    ]);
    assert!(page.starts_with("<!-- Generated from the files `scenarios/*.yaml`"));
    assert!(page.contains("2 scenario(s)."));
    assert!(page.find("`happy-path`").unwrap() < page.find("`ssl-offloading`").unwrap());
    assert!(
        page.contains("| `happy-path` | Outlook 2016 \\| Bearer | How do I Know I’m Using HMA? |")
    );
}

#[test]
fn the_cli_page_lists_every_subcommand_with_its_arguments() {
    use clap::CommandFactory;
    let page = render_cli(&crate::cli::args::Cli::command());
    assert!(page.starts_with("<!-- Generated from the clap definitions"));
    for sub in ["up", "run", "lint", "serve", "env", "shell", "explain"] {
        assert!(
            page.contains(&format!("\n## hma-lab {sub}\n")),
            "{sub}: {page}"
        );
    }
    assert!(
        page.contains("Usage: hma-lab run [OPTIONS] [PATHS]..."),
        "{page}"
    );
    assert!(page.contains("| `--format FORMAT` | `human` |"), "{page}");
    assert!(
        page.contains("Report format on stdout; one of `human`, `json`, `junit` |"),
        "{page}"
    );
    assert!(page.contains("| `-j, --jobs JOBS` | `0` |"), "{page}");
    assert!(page.contains("| `--echo` |  |"), "{page}");
    assert!(
        page.contains("| `FILE` |  | The capture or scenario file |"),
        "{page}"
    );
}

#[test]
fn only_marked_fences_are_runnable() {
    let md = "# T\n\n```sh\nnot marked\n```\n\n<!-- runs -->\n```sh\necho one\necho two\n```\n\ntext\n<!-- runs -->\n````bash\ncat <<'X'\n```\nX\n````\n";
    let blocks = runnable_blocks(md).unwrap();
    assert_eq!(
        blocks,
        vec![
            RunnableBlock {
                line: 8,
                code: "echo one\necho two\n".into()
            },
            RunnableBlock {
                line: 15,
                code: "cat <<'X'\n```\nX\n".into()
            },
        ]
    );
}

#[test]
fn a_marker_without_a_shell_fence_is_an_error() {
    assert!(runnable_blocks("<!-- runs -->\nplain text\n")
        .unwrap_err()
        .contains("not followed by a fenced block"));
    assert!(
        runnable_blocks("<!-- runs -->\n```rust\nfn main() {}\n```\n")
            .unwrap_err()
            .contains("must be sh or bash")
    );
    assert!(runnable_blocks("<!-- runs -->\n```sh\necho\n")
        .unwrap_err()
        .contains("never closed"));
    assert!(runnable_blocks("text\n<!-- runs -->")
        .unwrap_err()
        .contains("ends the file"));
}
