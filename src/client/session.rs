//! What a running Outlook does after its start: it downloads the offline address book, it
//! keeps working on the connection it established — with the authentication it chose at start,
//! whatever the server offers later — and only a restart makes it start over.
//!
//! This is why the field guide says "To test that HMA is working after you have enabled it,
//! restart Outlook": a client that started on NTLM stays on NTLM ([`Outlook::sync`]) until
//! [`Outlook::restart`] runs Autodiscover and the empty-Bearer handshake again. Kept apart from
//! the start itself (`client/mod.rs`) because it is about time passing, not about connecting.

use super::aad::resource_of;
use super::http::Req;
use super::{protocol_block, tag_text, ConnectionStatus, Outlook, Running, Stop};

impl Outlook {
    /// Called when a start established a connection: Outlook now runs with it.
    pub(super) fn remember_start(&mut self, status: &ConnectionStatus) {
        self.running = match (self.mailbox_req.take(), &status.authn) {
            (Some(mailbox), Some(authn)) => Some(Running {
                mailbox,
                server: status.server.clone(),
                protocol: status.protocol.clone(),
                authn: authn.clone(),
            }),
            _ => None,
        };
    }

    /// Outlook, still running, works on: the mailbox request again over its connection, with the
    /// authentication it started with — Bearer with its cached (or silently renewed) token, or
    /// NTLM/Negotiate/Basic, never switching to Bearer even if the server now offers it. Not
    /// running (never connected, or its start failed): `Disconnected`.
    pub async fn sync(&mut self) -> ConnectionStatus {
        self.wire.journal.clear();
        self.bearer_rejections.clear();
        let mut status = self.disconnected();
        let Some(run) = self.running.clone() else {
            status.detail = Some("Outlook is not running (no connection was established)".into());
            return status;
        };
        status.server = run.server.clone();
        status.protocol = run.protocol.clone();
        match self.keep_working(&run).await {
            Ok(authn) => {
                status.status = "Established".into();
                status.authn = Some(authn);
            }
            Err(Stop::Failed(why)) => {
                status.detail = Some(why);
                self.running = None;
            }
        }
        status.bearer_rejections = self.bearer_rejections.clone();
        status.exchanges = self.wire.journal.clone();
        status.tokens = self.cached_tokens();
        status
    }

    async fn keep_working(&mut self, run: &Running) -> Result<String, Stop> {
        let req = run.mailbox.clone();
        if run.authn == "Bearer" {
            let token = match self.cached_token(&resource_of(&req.url)).await {
                Some(Ok(t)) => t,
                Some(Err(stop)) => return Err(stop),
                None => return Err(Stop::Failed("no token to keep working with".into())),
            };
            let r = self.send_with(&req, &format!("Bearer {token}")).await?;
            if r.status != 401 {
                return Ok("Bearer".into());
            }
            self.bearer_rejections.push(
                r.header("x-ms-diagnostics")
                    .unwrap_or(super::NO_DIAGNOSTIC)
                    .to_string(),
            );
            return Err(Stop::Failed("Bearer refused; restart Outlook".into()));
        }
        // Legacy authentication on the kept-alive connection, or a new logon when it is gone.
        let r = self.send_with(&req, "").await?;
        if r.status != 401 {
            return Ok(run.authn.clone());
        }
        self.legacy(&req, &r).await.map(|(_, authn)| authn)
    }

    /// Closes Outlook and starts it again: new connections, Autodiscover and the handshake anew;
    /// the token cache and Azure AD's cookies survive (they are the machine's, not the
    /// process's), as with [`Outlook::reconnect`].
    pub async fn restart(&mut self) -> ConnectionStatus {
        self.running = None;
        self.close_connections();
        self.conn_auth.clear();
        self.run().await
    }

    /// Cached mode's offline address book: `oab.xml` under Autodiscover's external `OABUrl`
    /// (Outlook Anywhere's block; else the first one), authenticated
    /// as any other request (Bearer first when modern auth is on, then what the server offers).
    /// A failed download does not disconnect Outlook (it reports a send/receive error), so the
    /// outcome is only in the trace.
    pub(super) async fn download_oab(&mut self, pox: &str) {
        // The external URL (Outlook Anywhere's block), as for the mailbox connection.
        let base = protocol_block(pox, "EXPR")
            .and_then(|b| tag_text(&b, "OABUrl"))
            .or_else(|| tag_text(pox, "OABUrl"));
        let Some(base) = base else {
            return;
        };
        let url = format!("{}/oab.xml", base.trim_end_matches('/'));
        let req = Req::new("oab", "GET", &url)
            .header("user-agent", self.profile.user_agent())
            .header("x-anchormailbox", self.settings.user.clone());
        if let Err(Stop::Failed(why)) = self.authenticated(req, true).await {
            tracing::debug!(%why, "offline address book not downloaded");
        }
    }
}
