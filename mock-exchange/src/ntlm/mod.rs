//! NTLM for the mock Exchange: the server half of MS-NLMP, as IIS runs it for
//! `WWW-Authenticate: NTLM` and for `Negotiate` carrying raw NTLMSSP (what Windows sends when it
//! has no Kerberos ticket).
//!
//! Two parts, by role: [`logon`](mod@logon) decides — it builds the type 2 a member server sends, verifies
//! a type 3 as NTLMv2 against the domain's accounts and runs one leg of the handshake, all on
//! plain data; [`connections`] remembers — the challenge pending on each TCP connection, the
//! logon that persists on it, and the listener wrapper that sees connections close. The
//! messages and the NTLMv2 computations are `lab_kit::ntlm`, shared with the reference Outlook
//! client, which logs on with `lab_kit::ntlm::client`.

pub mod connections;
pub mod logon;

pub use connections::{track, Authed, ConnKey, Connections, Pending, Scheme, TrackedStream};
pub use logon::{logon, verify, Domain, Logon, LogonRequest, Reject};
