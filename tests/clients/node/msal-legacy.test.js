// msal-node 2.x and 3.x against the lab, configured as their users configure them: the real
// authority https://login.microsoftonline.com/contoso.com and `system: { proxyUrl }`. These
// versions ignore HTTPS_PROXY and do not use fetch (so the undici dispatcher lab.js installs for
// 7.x never sees them); with proxyUrl their HttpClient sends `CONNECT <host>` (no port) and then
// the request in PLAIN HTTP inside the tunnel. The lab serves that as https and journals it as
// `via: proxy-plain` — every test checks that the library's own requests arrived that way and
// carried that version's `x-client-VER`. Same flows and errors as msal.test.js for 7.x.
"use strict";
const { describe, test, before } = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const path = require("node:path");
const lab = require("./lab");

const AUTHORITY = `https://login.microsoftonline.com/${lab.TENANT}`;
const TOKEN_PATH = `/${lab.TENANT}/oauth2/v2.0/token`;
const DEVICE_PATH = `/${lab.TENANT}/oauth2/v2.0/devicecode`;
const LEGACY = ["msal-node-2", "msal-node-3"]; // npm aliases, see package.json

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

// The journal's last id: what a test's own requests come after.
async function mark() {
  const entries = await lab.journal();
  return entries.length ? entries[entries.length - 1].id : 0;
}

// The requests msal-node sent since `since`, each checked to have come to
// login.microsoftonline.com through the proxy in plain HTTP (the 2.x/3.x quirk). The device
// page (`/devicelogin`, visited by the test as the user, with fetch through undici: proxy-tls)
// is left out. Inside the tunnel msal-node writes only Host, Connection: close and, for a POST,
// Content-Type and Content-Length (its own headers, e.g. X-AnchorMailbox, went on the CONNECT).
// Token POSTs carry the library's version in their form (the devicecode POST has only client_id
// and scope). Returns
// "<METHOD> <path> [grant_type] <status>" summaries.
async function msalRequests(since, version) {
  const seen = (await lab.journal()).filter((e) => e.id > since);
  const out = [];
  for (const e of seen) {
    const url = new URL(e.url);
    if (url.pathname === "/devicelogin") continue; // the device page, the user's side
    assert.equal(e.via, "proxy-plain", `${e.method} ${e.url} came via ${e.via}`);
    assert.equal(url.origin, "https://login.microsoftonline.com");
    assert.deepEqual(e.request_headers, [
      ["host", "login.microsoftonline.com"], ["connection", "close"],
      ...(e.method === "POST" ? [["content-type", "application/x-www-form-urlencoded"], ["content-length", String(e.request_body.size)]] : []),
    ]);
    let grant = "";
    if (e.method === "POST" && url.pathname.endsWith("/token")) {
      const form = new URLSearchParams(e.request_body.text);
      assert.equal(form.get("x-client-SKU"), "msal.js.node", e.request_body.text);
      assert.equal(form.get("x-client-VER"), version, e.request_body.text);
      grant = ` ${form.get("grant_type")}`;
    }
    out.push(`${e.method} ${url.pathname}${grant} ${e.status}`);
  }
  return out;
}

for (const pkg of LEGACY) {
  const msal = require(pkg);
  const version = require(`${pkg}/package.json`).version;
  const app = () => new msal.PublicClientApplication({
    auth: { clientId: lab.OFFICE, authority: AUTHORITY },
    system: { proxyUrl: lab.ready.proxy },
  });

  function assertGreg(result) {
    const c = lab.claims(result.accessToken);
    assert.equal(c.aud, "https://mail.contoso.com");
    assert.equal(c.iss, `https://sts.windows.net/${lab.TID}/`);
    assert.equal(c.tid, lab.TID);
    assert.equal(c.oid, lab.GREG_OID);
    assert.equal(c.upn, lab.GREG);
    assert.equal(c.appid, lab.OFFICE);
    assert.equal(c.scp, "EWS.AccessAsUser.All");
    assert.equal(result.tokenType, "Bearer");
    assert.equal(result.account.username, lab.GREG);
    assert.equal(result.account.homeAccountId, `${lab.GREG_OID}.${lab.TID}`);
    assert.equal(result.account.tenantId, lab.TID);
    assert.equal(result.idTokenClaims.aud, lab.OFFICE);
    return c;
  }

  describe(`msal-node ${version} (system.proxyUrl)`, () => {
    before(() => {
      assert.equal(msal.version, version);
      assert.match(version, pkg === "msal-node-2" ? /^2\./ : /^3\./);
    });

    test("ROPC returns Greg's Exchange token, sent in plain HTTP inside CONNECT", async () => {
      const since = await mark();
      const r = await app().acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: lab.GREG, password: lab.PASSWORD });
      const c = assertGreg(r);
      assert.deepEqual(c.amr, ["pwd"]);
      // No discovery on the wire: msal-node knows login.microsoftonline.com's metadata itself.
      assert.deepEqual(await msalRequests(since, version), [`POST ${TOKEN_PATH} password 200`]);
    });

    test("ROPC with a wrong password is AADSTS50126", async () => {
      const since = await mark();
      const e = await rejects(app().acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: lab.GREG, password: "nope" }));
      assert.ok(e instanceof msal.ServerError, e);
      assert.equal(e.errorCode, "invalid_grant");
      assert.equal(e.errorNo, 50126);
      assert.match(e.errorMessage, /^Error\(s\): 50126 - Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ - Description: AADSTS50126: Error validating credentials due to invalid username or password\./);
      assert.deepEqual(await msalRequests(since, version), [`POST ${TOKEN_PATH} password 400`]);
    });

    test("ROPC for a user with per-user MFA is AADSTS50076", async () => {
      const since = await mark();
      const e = await rejects(app().acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: "MeganB@contoso.com", password: lab.PASSWORD }));
      assert.ok(e instanceof msal.InteractionRequiredAuthError, e);
      assert.equal(e.errorCode, "invalid_grant");
      assert.equal(e.subError, "basic_action");
      assert.match(e.claims, /"capolids"/);
      assert.equal(e.errorNo, 50076);
      // The answer carries suberror and claims: msal-node makes it an InteractionRequiredAuthError
      // whose message is the description as sent.
      assert.match(e.errorMessage, /^AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'\./);
      assert.deepEqual(await msalRequests(since, version), [`POST ${TOKEN_PATH} password 400`]);
    });

    test("device code completed on the lab's device page", async () => {
      const since = await mark();
      let shown;
      const r = await app().acquireTokenByDeviceCode({
        scopes: [lab.EWS_SCOPE],
        deviceCodeCallback: (resp) => {
          shown = resp;
          // The user signs in at the device page (in a browser: here fetch through the lab
          // proxy with real TLS) while msal-node polls and gets authorization_pending.
          lab.completeDeviceCode(resp.verificationUri, resp.userCode, lab.GREG, lab.PASSWORD).catch((e) => { shown.error = e; });
        },
      });
      assert.equal(shown.error, undefined);
      assert.equal(shown.verificationUri, "https://login.microsoftonline.com/devicelogin");
      assert.equal(shown.message, `To sign in, use a web browser to open the page https://login.microsoftonline.com/devicelogin and enter the code ${shown.userCode} to authenticate.`);
      assertGreg(r);
      // msal-node derives the devicecode URL from the token URL, then polls with msal-common's
      // short grant name until the code is approved (its first poll goes out at once, so it
      // normally meets authorization_pending; how many polls is a race with the sign-in).
      const sent = await msalRequests(since, version);
      assert.equal(sent[0], `POST ${DEVICE_PATH} 200`);
      assert.equal(sent[sent.length - 1], `POST ${TOKEN_PATH} device_code 200`);
      assert.ok(sent.length >= 2, sent.join("\n"));
      for (const s of sent.slice(1, -1)) assert.equal(s, `POST ${TOKEN_PATH} device_code 400`);
    });

    test("refresh through acquireTokenSilent after an hour of lab time", async () => {
      const pca = app();
      const first = await pca.acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: lab.GREG, password: lab.PASSWORD });
      const c1 = assertGreg(first);
      const cached = await pca.acquireTokenSilent({ account: first.account, scopes: [lab.EWS_SCOPE] });
      assert.equal(cached.accessToken, first.accessToken);
      assert.equal(cached.fromCache, true);
      await lab.advance(3600);
      // msal-node judges freshness by the wall clock, not the lab's: an hour of lab time
      // later it still answers from its cache ...
      const stale = await pca.acquireTokenSilent({ account: first.account, scopes: [lab.EWS_SCOPE] });
      assert.equal(stale.accessToken, first.accessToken);
      assert.equal(stale.fromCache, true);
      // ... so forceRefresh redeems the refresh token (for Azure AD and Exchange the cached
      // token has expired by now).
      const since = await mark();
      const refreshed = await pca.acquireTokenSilent({ account: first.account, scopes: [lab.EWS_SCOPE], forceRefresh: true });
      assert.equal(refreshed.fromCache, false);
      const c2 = assertGreg(refreshed);
      assert.notEqual(refreshed.accessToken, first.accessToken);
      assert.ok(c2.iat >= c1.iat + 3600, `${c2.iat} vs ${c1.iat}`);
      assert.deepEqual(await msalRequests(since, version), [`POST ${TOKEN_PATH} refresh_token 200`]);
    });

    test("a password change makes the refresh fail with AADSTS50173", async () => {
      // AlexW's password is set here first and restored to the lab file's afterwards, so the
      // test does not depend on, nor leave anything for, the tests around it.
      const user = "AlexW@contoso.com";
      const set = (pw) => lab.cmdlet(`Set-MsolUserPassword -UserPrincipalName ${user} -NewPassword '${pw}' -ForceChangePassword $false`);
      try {
        await set("Tailspin2021!a");
        await lab.advance(60);
        const pca = app();
        const first = await pca.acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: user, password: "Tailspin2021!a" });
        assert.equal(lab.claims(first.accessToken).upn, user);
        await lab.advance(60);
        await set("Tailspin2021!b");
        await lab.advance(60);
        const since = await mark();
        const e = await rejects(pca.acquireTokenSilent({ account: first.account, scopes: [lab.EWS_SCOPE], forceRefresh: true }));
        assert.ok(e instanceof msal.ServerError, e);
        assert.equal(e.errorCode, "invalid_grant");
        assert.equal(e.errorNo, 50173);
        assert.match(e.errorMessage, /^Error\(s\): 50173 - Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ - Description: AADSTS50173: The provided grant has expired due to it being revoked\. The user might have changed or reset their password\. The grant was issued on '[^']+' and the TokensValidFrom date for this user is '[^']+'/);
        assert.deepEqual(await msalRequests(since, version), [`POST ${TOKEN_PATH} refresh_token 400`]);
        // The new password works.
        const again = await app().acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: user, password: "Tailspin2021!b" });
        assert.equal(lab.claims(again.accessToken).upn, user);
      } finally {
        await set(lab.PASSWORD);
      }
    });

    test("an unregistered resource is AADSTS500011", async () => {
      const since = await mark();
      const e = await rejects(app().acquireTokenByUsernamePassword({ scopes: ["https://nothere.contoso.com/.default"], username: lab.GREG, password: lab.PASSWORD }));
      assert.ok(e instanceof msal.ServerError, e);
      assert.equal(e.errorCode, "invalid_resource");
      assert.equal(e.errorNo, 500011);
      assert.match(e.errorMessage, /Description: AADSTS500011: The resource principal named https:\/\/nothere\.contoso\.com was not found in the tenant named contoso\.com\./);
      assert.deepEqual(await msalRequests(since, version), [`POST ${TOKEN_PATH} password 400`]);
    });

    test("an unregistered v1 resource is AADSTS50001 over msal-node's own proxy transport", async () => {
      // msal-node has no v1 (resource=) API, so AADSTS50001 cannot come out of its token calls.
      // The same plain-in-CONNECT transport is exercised by posting ADAL's v1 request with the
      // network client that `system.proxyUrl` built (msal-node's HttpClient, not exported,
      // reached through the application's configuration).
      const client = app().config.system.networkClient;
      assert.equal(client.constructor.name, "HttpClient");
      const since = await mark();
      const r = await client.sendPostRequestAsync(`${AUTHORITY}/oauth2/token`, {
        headers: {},
        body: new URLSearchParams({ grant_type: "password", client_id: lab.OFFICE, username: lab.GREG, password: lab.PASSWORD, resource: "https://nothere.contoso.com/" }).toString(),
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, "invalid_resource");
      assert.deepEqual(r.body.error_codes, [50001]);
      assert.match(r.body.error_description, /^AADSTS50001: The application named https:\/\/nothere\.contoso\.com\/ was not found in the tenant named contoso\.com\./);
      const seen = (await lab.journal()).filter((e) => e.id > since);
      assert.deepEqual(seen.map((e) => `${e.via} ${e.method} ${e.url} ${e.status}`),
        [`proxy-plain POST ${AUTHORITY}/oauth2/token 400`]);
    });

    test("needs no CA: nothing it sends through the proxy is TLS", async () => {
      // A fresh node without NODE_EXTRA_CA_CERTS (and without any proxy variable): with
      // proxyUrl the library never starts TLS, so the lab CA plays no part for it.
      const env = { ...process.env };
      for (const k of ["NODE_EXTRA_CA_CERTS", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "SSL_CERT_FILE"]) delete env[k];
      const script = `
        const msal = require(${JSON.stringify(pkg)});
        new msal.PublicClientApplication({ auth: { clientId: ${JSON.stringify(lab.OFFICE)}, authority: ${JSON.stringify(AUTHORITY)} },
                                           system: { proxyUrl: ${JSON.stringify(lab.ready.proxy)} } })
          .acquireTokenByUsernamePassword({ scopes: [${JSON.stringify(lab.EWS_SCOPE)}], username: ${JSON.stringify(lab.GREG)}, password: ${JSON.stringify(lab.PASSWORD)} })
          .then((r) => process.stdout.write(r.accessToken), (e) => { console.error(String(e)); process.exit(1); });`;
      const token = await new Promise((resolve, reject) => {
        execFile(process.execPath, ["-e", script], { env, cwd: path.join(__dirname, ".."), timeout: 60000 }, (err, stdout, stderr) => {
          if (err) reject(new Error(`${err.message}\n${stderr}`));
          else resolve(stdout);
        });
      });
      const c = lab.claims(token);
      assert.equal(c.upn, lab.GREG);
      assert.equal(c.aud, "https://mail.contoso.com");
    });
  });
}
