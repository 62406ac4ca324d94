//! The token forge's reference table: for each flaw, the exact answer mock Exchange gives a
//! forged token on EWS (status, `WWW-Authenticate`, `x-ms-diagnostics`). The rows are data, so
//! the integration test `tests/it/forge.rs` replays every row against a running lab and the book
//! page `reference/token-forge.md` is rendered from the very same rows (by
//! [`super::render_forge`]; this module is data only).

/// One row: what is forged and what Exchange answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForgeRow {
    /// The cmdlet spelling of the flaw (`WrongAudienceHost`).
    pub flaw: &'static str,
    /// `-Claim` for `MissingClaim`.
    pub claim: Option<&'static str>,
    pub user: &'static str,
    pub status: u16,
    /// The whole `WWW-Authenticate` value (empty when absent).
    pub www_authenticate: &'static str,
    /// `x-ms-diagnostics` (empty when absent).
    pub diagnostics: &'static str,
    /// What the row shows, in a sentence.
    pub note: &'static str,
}

/// The resource every row asks for: EWS's SPN in the contoso lab.
pub const FORGE_RESOURCE: &str = "https://mail.contoso.com/";

const GREG: &str = "GregT@contoso.com";
/// Exchange's challenge when it refuses a token (the `invalid_token` form).
const INVALID_TOKEN: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", token_types=\"app_asserted_user_v1 service_asserted_app_v1\", authorization_uri=\"https://login.windows.net/common/oauth2/authorize\", error=\"invalid_token\", Negotiate, NTLM";
/// Exchange's challenge when the token is good but names nobody it knows.
const NO_USER: &str = "Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", trusted_issuers=\"00000001-0000-0000-c000-000000000000@f31f3647-5d87-4b69-a0b6-73f62aeab14c\", Negotiate, NTLM";

/// The table; `tests/it/forge.rs` proves every row against mock-exchange.
pub const FORGE_ROWS: &[ForgeRow] = &[
    ForgeRow {
        flaw: "None",
        claim: None,
        user: GREG,
        status: 200,
        www_authenticate: "",
        diagnostics: "",
        note: "the token Azure AD would issue: the control row.",
    },
    ForgeRow {
        flaw: "Expired",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"",
        note: "`exp` an hour ago, past the five minutes of skew Exchange allows.",
    },
    ForgeRow {
        flaw: "NotYetValid",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000002;reason=\"The token has expired.\";error_category=\"token_expired\"",
        note: "`nbf` an hour ahead; Exchange words it as an expired token.",
    },
    ForgeRow {
        flaw: "WrongAudienceHost",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000003;reason=\"The hostname component of the audience claim value 'https://autodiscover.contoso.com' is invalid\";error_category=\"invalid_resource\"",
        note: "`aud` is `https://autodiscover.contoso.com/`: the SPN of another host of the namespace.",
    },
    ForgeRow {
        flaw: "WrongAudienceScheme",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000003;reason=\"The hostname component of the audience claim value is invalid. Expected 'http://mail.contoso.com'. Actual 'https://mail.contoso.com'.\";error_category=\"invalid_resource\"",
        note: "`aud` is `http://mail.contoso.com/`.",
    },
    ForgeRow {
        flaw: "AudienceOfAnotherSpn",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000003;reason=\"The hostname component of the audience claim value 'https://graph.microsoft.com' is invalid\";error_category=\"invalid_resource\"",
        note: "`aud` is another service principal's name (Microsoft Graph's).",
    },
    ForgeRow {
        flaw: "WrongIssuer",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000001;reason=\"The issuer of the token is unknown. Issuer was 'https://sts.windows.net/6e1c4a0f-2b7d-4f4e-9c1a-0b5d3e8f7a21/'.\";error_category=\"invalid_token\"",
        note: "`iss` and `tid` of a tenant no AuthServer trusts.",
    },
    ForgeRow {
        flaw: "WrongTenant",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000004;reason=\"The tenant for context-id '6e1c4a0f-2b7d-4f4e-9c1a-0b5d3e8f7a21' does not exist.\";error_category=\"invalid_tenant\"",
        note: "`iss` right, `tid` another tenant.",
    },
    ForgeRow {
        flaw: "UnknownSigningKey",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"",
        note: "signed by a key Azure AD never published, under its own `kid`.",
    },
    ForgeRow {
        flaw: "SignedByAttackerKey",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"",
        note: "the published active key's `kid`, the attacker key's signature.",
    },
    ForgeRow {
        flaw: "AlgNone",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000000;reason=\"The token has an invalid signature.\";error_category=\"invalid_signature\"",
        note: "header `alg` is `none`, no signature.",
    },
    ForgeRow {
        flaw: "MissingClaim",
        claim: Some("exp"),
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000001;error_category=\"invalid_token\"",
        note: "no `exp`.",
    },
    ForgeRow {
        flaw: "MissingClaim",
        claim: Some("tid"),
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000004;reason=\"The tid claim is missing.\";error_category=\"invalid_tenant\"",
        note: "no `tid`.",
    },
    ForgeRow {
        flaw: "MissingClaim",
        claim: Some("iss"),
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000001;reason=\"The issuer of the token is unknown. Issuer was ''.\";error_category=\"invalid_token\"",
        note: "no `iss`.",
    },
    ForgeRow {
        flaw: "MissingClaim",
        claim: Some("aud"),
        user: GREG,
        status: 401,
        www_authenticate: INVALID_TOKEN,
        diagnostics: "2000003;reason=\"The hostname component of the audience claim value '' is invalid\";error_category=\"invalid_resource\"",
        note: "no `aud`.",
    },
    ForgeRow {
        flaw: "MissingClaim",
        claim: Some("onprem_sid"),
        user: GREG,
        status: 200,
        www_authenticate: "",
        diagnostics: "",
        note: "no `onprem_sid`: Exchange finds the account by `upn`.",
    },
    ForgeRow {
        flaw: "CloudOnlyUser",
        claim: None,
        user: GREG,
        status: 200,
        www_authenticate: "",
        diagnostics: "",
        note: "a synced user's token without `onprem_sid`: Exchange falls back on `upn` and serves the mailbox.",
    },
    ForgeRow {
        flaw: "CloudOnlyUser",
        claim: None,
        user: "AlexW@contoso.com",
        status: 401,
        www_authenticate: NO_USER,
        diagnostics: "2000005;reason=\"The user specified by the user-context in the token does not exist.\";error_category=\"invalid_user\"",
        note: "a cloud-only user (no on-premises account): nobody to map the token to.",
    },
    ForgeRow {
        flaw: "UserWithoutMailbox",
        claim: None,
        user: GREG,
        status: 401,
        www_authenticate: NO_USER,
        diagnostics: "2000005;reason=\"The user specified by the user-context in the token does not exist.\";error_category=\"invalid_user\"",
        note: "a synced account without a mailbox (the domain's Administrator, RID 500).",
    },
];

/// How to forge, after the table.
pub const FORGE_USAGE: &str = r#"
## Forging a token

From the lab shell (`hma-lab shell`, or a scenario's `run:` step):

```powershell
$t = New-LabForgedToken GregT@contoso.com -Resource https://mail.contoso.com/ -Flaw Expired
$t.AccessToken    # send it as "Authorization: Bearer …" from the client under test
New-LabForgedToken GregT@contoso.com -Resource https://mail.contoso.com/ -Flaw MissingClaim -Claim tid
```

From anything that speaks HTTP, mock-aad's admin API (behind its admin token, loopback only):

```text
POST /_admin/forge
{"user": "GregT@contoso.com", "resource": "https://mail.contoso.com/", "flaw": "expired"}
→ 200 {"access_token": "eyJ…", "token_type": "Bearer", "flaw": "expired", "header": {…}, "claims": {…}}
```

The API spells a flaw in snake case (`wrong_audience_host`), the cmdlet in Pascal case
(`WrongAudienceHost`); `claim` goes with `missing_claim` only. An unknown user or resource is a
404, a flaw the user cannot have (`user_without_mailbox` for a cloud-only user, a claim the token
does not hold) a 400 naming what is wrong. The attacker key ships with mock-aad
(`mock-aad/keys/attacker-*.pem`) and is never published: `UnknownSigningKey` signs under its own
`kid`, `SignedByAttackerKey` under the active key's, so one tests the unknown-kid refresh and
the other the signature check.
"#;
