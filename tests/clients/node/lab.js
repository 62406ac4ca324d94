// Shared helpers for the Node real-client tests: the running `hma-lab serve` (its ready line
// arrives in HMA_READY from tests/clients/run.sh) and its admin API. Clients reach the lab by
// configuration only: NODE_EXTRA_CA_CERTS (set by run.sh before node starts) trusts the lab
// CA; Node's fetch, which msal-node 7 uses, goes through the lab proxy by undici's
// EnvHttpProxyAgent reading HTTPS_PROXY; ews-javascript-api's axios reads HTTPS_PROXY itself.
"use strict";
const assert = require("node:assert/strict");
const { setGlobalDispatcher, EnvHttpProxyAgent, Agent, request } = require("undici");

if (!process.env.HMA_READY) {
  throw new Error("HMA_READY is not set: run these tests through tests/clients/run.sh");
}
const ready = JSON.parse(process.env.HMA_READY);
process.env.HTTPS_PROXY = ready.proxy;
process.env.HTTP_PROXY = ready.proxy;
delete process.env.NO_PROXY;
delete process.env.no_proxy;
setGlobalDispatcher(new EnvHttpProxyAgent());

const direct = new Agent(); // the admin API is on loopback, not behind the proxy
const auth = { authorization: `Bearer ${ready.admin_token}` };

async function admin(method, path, body, contentType) {
  const res = await request(ready.admin + path, {
    method, dispatcher: direct, body,
    headers: contentType ? { ...auth, "content-type": contentType } : auth,
  });
  const text = await res.body.text();
  assert.equal(res.statusCode, 200, `${method} ${path}: ${res.statusCode} ${text}`);
  return JSON.parse(text);
}

async function cmdlet(line) {
  const r = await admin("POST", "/cmdlet", line, "text/plain");
  assert.equal(r.ok, true, `${line}: ${JSON.stringify(r)}`);
  return r.output;
}

const journal = async () => (await admin("GET", "/journal")).entries;

const advance = (seconds) => admin("POST", `/clock/advance?seconds=${seconds}`);

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

// A user at the device page: posts the page's form with its hidden fields plus what a person
// types. The pages keep the flow on the server (flowToken), so no cookies or script are needed.
function form(html) {
  const action = /<form[^>]*action="([^"]+)"/.exec(html);
  assert.ok(action, `no form on the page: ${html.slice(0, 500)}`);
  const hidden = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    hidden[m[1]] = m[2];
  }
  return { action: action[1].replace(/&amp;/g, "&"), hidden };
}

async function submit(html, fields) {
  const f = form(html);
  const res = await fetch(f.action, {
    method: "POST", redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...f.hidden, ...fields }).toString(),
  });
  return res.text();
}

async function completeDeviceCode(verificationUri, userCode, username, password) {
  let page = await (await fetch(verificationUri)).text();
  assert.match(page, /id="otc"/);
  page = await submit(page, { otc: userCode });
  assert.match(page, /id="i0116"/);
  page = await submit(page, { loginfmt: username });
  assert.match(page, /id="i0118"/);
  page = await submit(page, { passwd: password });
  assert.match(page, /Are you trying to sign in to/);
  return submit(page, { action: "Continue" });
}

module.exports = {
  ready, cmdlet, advance, journal, claims, completeDeviceCode,
  TENANT: "contoso.com",
  TID: "f31f3647-5d87-4b69-a0b6-73f62aeab14c",
  OFFICE: "d3590ed6-52b3-4102-aeff-aad2292ab01c",
  PASSWORD: "Contoso2017!",
  GREG: "GregT@contoso.com",
  GREG_OID: "7f199a96-50b1-4675-9db0-57b362c5d564",
  EWS_SCOPE: "https://mail.contoso.com/EWS.AccessAsUser.All",
  EWS_URL: "https://mail.contoso.com/EWS/Exchange.asmx",
};
