// ews-javascript-api 0.15.3 with OAuthCredentials and a token from the lab's Azure AD (msal-node),
// against the lab's Exchange by its real name: axios through an https-proxy-agent to the lab
// proxy, the lab CA trusted through NODE_EXTRA_CA_CERTS.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const msal = require("@azure/msal-node");
const ews = require("ews-javascript-api");
const { XhrApi } = require("@ewsjs/xhr");
const { HttpsProxyAgent } = require("https-proxy-agent");
const lab = require("./lab");

ews.ConfigurationApi.ConfigureXHR(new XhrApi({ httpsAgent: new HttpsProxyAgent(lab.ready.proxy), proxy: false }));

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
