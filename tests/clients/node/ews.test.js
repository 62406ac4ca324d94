// ews-javascript-api 0.15.3 with OAuthCredentials and a token from the lab's Azure AD (msal-node),
// against the lab's Exchange by its real name. Configuration only: axios (under @ewsjs/xhr)
// takes HTTPS_PROXY itself and tunnels with CONNECT; Node trusts the lab CA through
// NODE_EXTRA_CA_CERTS.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const msal = require("@azure/msal-node");
const ews = require("ews-javascript-api");
const lab = require("./lab");

async function service() {
  const pca = new msal.PublicClientApplication({ auth: { clientId: lab.OFFICE, authority: `https://login.microsoftonline.com/${lab.TENANT}` } });
  const r = await pca.acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: lab.GREG, password: lab.PASSWORD });
  const svc = new ews.ExchangeService(ews.ExchangeVersion.Exchange2016);
  svc.Credentials = new ews.OAuthCredentials(r.accessToken);
  svc.Url = new ews.Uri(lab.EWS_URL);
  return { svc, token: r.accessToken };
}

test("Folder.Bind and FindItems on Greg's inbox with a Bearer token", async () => {
  const { svc } = await service();
  const inbox = await ews.Folder.Bind(svc, ews.WellKnownFolderName.Inbox);
  assert.equal(inbox.DisplayName, "Inbox");
  assert.equal(inbox.TotalCount, 3);
  const found = await svc.FindItems(ews.WellKnownFolderName.Inbox, new ews.ItemView(10));
  assert.equal(found.TotalCount, 3);
  assert.deepEqual(found.Items.map((i) => i.Subject), [
    "Lunch?", "Re: SPNs for mail.corp.contoso.com", "Welcome to Hybrid Modern Authentication"]);
  // Through the lab proxy with CONNECT and TLS inside, Bearer accepted.
  const ews200 = (await lab.journal()).filter((e) => e.url === lab.EWS_URL && e.status === 200);
  assert.ok(ews200.length >= 2, JSON.stringify(ews200.map((e) => [e.via, e.status])));
  assert.deepEqual([...new Set(ews200.map((e) => e.via))], ["proxy-tls"]);
});

test("a token that is not the lab's is refused with 401", async () => {
  const { svc, token } = await service();
  // Same shape, signature bytes changed: Exchange verifies it and says no.
  const parts = token.split(".");
  parts[2] = parts[2].slice(0, -4) + (parts[2].endsWith("AAAA") ? "BBBB" : "AAAA");
  svc.Credentials = new ews.OAuthCredentials(parts.join("."));
  await assert.rejects(ews.Folder.Bind(svc, ews.WellKnownFolderName.Inbox), (e) => {
    const text = String(e && (e.message || e.statusText || e.status || JSON.stringify(e)));
    assert.match(text + " " + JSON.stringify(e), /401|Unauthorized/);
    return true;
  });
});
