// msal-node 7 against the lab: the real authority https://login.microsoftonline.com/contoso.com,
// reached through the lab proxy (see lab.js). ROPC, device code completed on the lab's device
// page, refresh after an hour of lab time, and the AADSTS errors a real client meets.
"use strict";
const { test } = require("node:test");
const assert = require("node:assert/strict");
const msal = require("@azure/msal-node");
const lab = require("./lab");

const AUTHORITY = `https://login.microsoftonline.com/${lab.TENANT}`;
const app = () => new msal.PublicClientApplication({ auth: { clientId: lab.OFFICE, authority: AUTHORITY } });

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

async function rejects(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

test("ROPC returns Greg's Exchange token", async () => {
  const r = await app().acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: lab.GREG, password: lab.PASSWORD });
  const c = assertGreg(r);
  assert.deepEqual(c.amr, ["pwd"]);
});

test("ROPC with a wrong password is AADSTS50126", async () => {
  const e = await rejects(app().acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: lab.GREG, password: "nope" }));
  assert.equal(e.errorCode, "invalid_grant");
  assert.equal(e.errorNo, 50126);
  assert.match(e.errorMessage, /Description: AADSTS50126: Error validating credentials due to invalid username or password\./);
});

test("ROPC for a user with per-user MFA is AADSTS50076", async () => {
  const e = await rejects(app().acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: "MeganB@contoso.com", password: lab.PASSWORD }));
  assert.equal(e.errorCode, "invalid_grant");
  // The answer carries suberror and claims: msal-node makes it an InteractionRequiredAuthError
  // whose message is the description as sent.
  assert.ok(e instanceof msal.InteractionRequiredAuthError, e);
  assert.equal(e.subError, "basic_action");
  assert.match(e.claims, /"capolids"/);
  assert.match(e.errorMessage, /^AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000002-0000-0ff1-ce00-000000000000'\./);
});

test("device code completed on the lab's device page", async () => {
  let shown;
  const r = await app().acquireTokenByDeviceCode({
    scopes: [lab.EWS_SCOPE],
    deviceCodeCallback: (resp) => {
      shown = resp;
      assert.equal(resp.verificationUri, "https://login.microsoftonline.com/devicelogin");
      assert.equal(resp.message, `To sign in, use a web browser to open the page https://login.microsoftonline.com/devicelogin and enter the code ${resp.userCode} to authenticate.`);
      // The user signs in while msal-node polls (authorization_pending until then).
      lab.completeDeviceCode(resp.verificationUri, resp.userCode, lab.GREG, lab.PASSWORD).catch((e) => { shown.error = e; });
    },
  });
  assert.equal(shown.error, undefined);
  assertGreg(r);
});

test("refresh through acquireTokenSilent after an hour of lab time", async () => {
  const pca = app();
  const first = await pca.acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: lab.GREG, password: lab.PASSWORD });
  const c1 = assertGreg(first);
  const cached = await pca.acquireTokenSilent({ account: first.account, scopes: [lab.EWS_SCOPE] });
  assert.equal(cached.accessToken, first.accessToken);
  assert.equal(cached.fromCache, true);
  await lab.advance(3600);
  // msal-node judges freshness by the wall clock; forceRefresh redeems the refresh token.
  const refreshed = await pca.acquireTokenSilent({ account: first.account, scopes: [lab.EWS_SCOPE], forceRefresh: true });
  assert.equal(refreshed.fromCache, false);
  const c2 = assertGreg(refreshed);
  assert.notEqual(refreshed.accessToken, first.accessToken);
  assert.ok(c2.iat >= c1.iat + 3600, `${c2.iat} vs ${c1.iat}`);
});

test("a password change makes the refresh fail with AADSTS50173", async () => {
  const user = "AlexW@contoso.com";
  await lab.cmdlet(`Set-MsolUserPassword -UserPrincipalName ${user} -NewPassword 'Northwind2019!a' -ForceChangePassword $false`);
  await lab.advance(60);
  const pca = app();
  const first = await pca.acquireTokenByUsernamePassword({ scopes: [lab.EWS_SCOPE], username: user, password: "Northwind2019!a" });
  assert.equal(lab.claims(first.accessToken).upn, user);
  await lab.advance(60);
  await lab.cmdlet(`Set-MsolUserPassword -UserPrincipalName ${user} -NewPassword 'Northwind2019!b' -ForceChangePassword $false`);
  await lab.advance(60);
  const e = await rejects(pca.acquireTokenSilent({ account: first.account, scopes: [lab.EWS_SCOPE], forceRefresh: true }));
  // msal-node formats the server's answer as "Error(s): <codes> - Timestamp: … - Description: …".
  assert.ok(e instanceof msal.ServerError, e);
  assert.equal(e.errorCode, "invalid_grant");
  assert.equal(e.errorNo, 50173);
  assert.match(e.errorMessage, /^Error\(s\): 50173 - Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ - Description: AADSTS50173: The provided grant has expired due to it being revoked\. The user might have changed or reset their password\. The grant was issued on '[^']+' and the TokensValidFrom date for this user is '[^']+'/);
});

test("an unregistered resource is AADSTS500011", async () => {
  const e = await rejects(app().acquireTokenByUsernamePassword({ scopes: ["https://nothere.contoso.com/.default"], username: lab.GREG, password: lab.PASSWORD }));
  assert.equal(e.errorCode, "invalid_resource");
  assert.equal(e.errorNo, 500011);
  assert.match(e.errorMessage, /Description: AADSTS500011: The resource principal named https:\/\/nothere\.contoso\.com was not found in the tenant named contoso\.com\./);
});

test("an unregistered v1 resource is AADSTS50001", async () => {
  // ADAL's v1 endpoint (msal-node speaks v2 only), over the same proxy.
  const res = await fetch(`${AUTHORITY}/oauth2/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: lab.OFFICE, username: lab.GREG, password: lab.PASSWORD, resource: "https://nothere.contoso.com/" }),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error, "invalid_resource");
  assert.deepEqual(body.error_codes, [50001]);
  assert.match(body.error_description, /^AADSTS50001: The application named https:\/\/nothere\.contoso\.com\/ was not found in the tenant named contoso\.com\./);
});
