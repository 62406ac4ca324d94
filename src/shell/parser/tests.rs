//! The parser against the field guide's lines and PowerShell's parse errors.

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
    let s =
        parse_line("Get-AuthServer | where {$_.Name -eq \"EvoSts\" -and -not $_.Enabled}").unwrap();
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

fn expr_of(line: &str) -> ExprKind {
    match parse_line(line).unwrap().statements.remove(0) {
        Statement::Pipeline(mut p) => match p.elements.remove(0) {
            Element::Expr(e) => e.kind,
            e => panic!("not an expression: {e:?}"),
        },
        s => panic!("not a pipeline: {s:?}"),
    }
}

#[test]
fn positions_are_char_offsets_past_non_ascii_text() {
    let c = cmd("Set-AuthServer \u{201C}EvoSts\u{201D} \u{2013}Enabled $true");
    assert!(matches!(&c.args[1], Arg::Param { name, pos: 24, raw, .. }
        if name == "Enabled" && raw == "\u{2013}Enabled"));
    let e = parse_line("Set-X \u{00E9}t\u{00E9} \"abc").unwrap_err();
    assert_eq!(e.message, "The string is missing the terminator: \".");
    assert_eq!(e.column, 11);
    assert_eq!(e.error_id, "TerminatorExpectedAtEndOfString");
}

#[test]
fn nesting_is_capped() {
    let ok = "(".repeat(20) + "1" + &")".repeat(20);
    parse_line(&ok).unwrap();
    let deep = "(".repeat(40) + "1" + &")".repeat(40);
    let e = parse_line(&deep).unwrap_err();
    assert_eq!(e.error_id, "LabNestingTooDeep");
    assert_eq!(e.column, MAX_NESTING + 1);
    let e = parse_line(&"!".repeat(40)).unwrap_err();
    assert_eq!(e.error_id, "LabNestingTooDeep");
    let long = "a".repeat(MAX_SCRIPT_BYTES + 1);
    assert_eq!(parse_line(&long).unwrap_err().error_id, "LabScriptTooLong");
}

#[test]
fn continuations_comments_and_statement_separators() {
    let s =
        parse_line("Get-Mailbox `\n  -Identity x <# note #> | fl # tail\nGet-X; Get-Y").unwrap();
    assert_eq!(s.statements.len(), 3);
    match &s.statements[0] {
        Statement::Pipeline(p) => {
            assert_eq!(p.elements.len(), 2);
            assert!(matches!(&p.elements[0], Element::Command(c) if c.args.len() == 2));
        }
        s => panic!("{s:?}"),
    }
    // an operator carries its operand over a newline; a bare newline ends the statement
    assert!(matches!(
        expr_of("$a -eq\n 1"),
        ExprKind::Binary(BinOp::Eq, ..)
    ));
    assert_eq!(parse_line("$a\n-eq 1").unwrap().statements.len(), 2);
}

#[test]
fn strings_escapes_and_hash_literals() {
    assert_eq!(
        expr_of("\"a`tb`$x\"\"q\""),
        ExprKind::Expandable("a\tb\u{E000}x\"q".into())
    );
    assert_eq!(expr_of("'it''s `n'"), ExprKind::Str("it's `n".into()));
    assert_eq!(
        expr_of("\u{2018}curly\u{2019}"),
        ExprKind::Str("curly".into())
    );
    match expr_of("@{ Add = \"OAuth\"; 'Remove' = 'Basic' }") {
        ExprKind::Hash(pairs) => {
            let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(keys, ["Add", "Remove"]);
        }
        k => panic!("{k:?}"),
    }
    let e = parse_line("@{ Add }").unwrap_err();
    assert_eq!(e.error_id, "MissingEqualsInHashLiteral");
    assert_eq!(e.column, 8);
    assert!(matches!(
        expr_of("$a -ceq 'X'"),
        ExprKind::Binary(BinOp::Eq, _, _, true)
    ));
    assert!(matches!(
        expr_of("$a -contains 'X'"),
        ExprKind::Binary(BinOp::Contains, _, _, false)
    ));
    let e = parse_line("$a -foo 1").unwrap_err();
    assert_eq!(
        e.message,
        "Unexpected token '-foo' in expression or statement."
    );
    assert_eq!((e.column, e.width), (4, 4));
}
