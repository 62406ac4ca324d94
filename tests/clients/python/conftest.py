"""Shared fixtures for the real-client tests: the running `hma-lab serve` (started by
`tests/clients/run.sh`, which hands over its ready line in `HMA_READY`) and its admin API.

Clients reach the lab only by configuration: `HTTPS_PROXY` points at the lab's forward proxy
and `REQUESTS_CA_BUNDLE` at the lab CA, exactly what `eval "$(hma-lab env)"` exports. Nothing
here reaches outside the lab.
"""

import base64
import json
import os
import pathlib

import pytest
import requests

TENANT = "contoso.com"
TID = "f31f3647-5d87-4b69-a0b6-73f62aeab14c"
OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"  # Microsoft Office, public client
CONTOSO_WEB = "cbe9bcaa-6b5c-42fe-ad70-35a73de6869a"
PASSWORD = "Contoso2017!"
GREG = "GregT@contoso.com"
GREG_OID = "7f199a96-50b1-4675-9db0-57b362c5d564"
EWS_SCOPE = "https://mail.contoso.com/EWS.AccessAsUser.All"
EWS_URL = "https://mail.contoso.com/EWS/Exchange.asmx"
SEEDED_SUBJECTS = {
    "Welcome to Hybrid Modern Authentication",
    "Re: SPNs for mail.corp.contoso.com",
    "Lunch?",
}
REPO = pathlib.Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "target" / "screenshots"


def claims(jwt):
    """The payload of a JWT (signature not checked: the lab signs, Exchange verifies)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Lab:
    """The running lab: addresses from the ready line and the admin API."""

    def __init__(self, ready):
        self.ready = ready
        self.https = ready["https"]
        self.proxy = ready["proxy"]
        self.ca = ready["ca"]
        self.admin = ready["admin"]
        self._auth = {"Authorization": "Bearer " + ready["admin_token"]}
        # The admin API is on loopback, never behind the lab proxy.
        self._admin = requests.Session()
        self._admin.trust_env = False
        self._admin.headers.update(self._auth)

    def _post(self, path, **kw):
        return self._admin.post(self.admin + path, timeout=30, **kw)

    def cmdlet(self, line):
        """Runs one PowerShell line; returns its output text (fails the test on an error)."""
        r = self._post("/cmdlet", data=line.encode(), headers={"Content-Type": "text/plain"})
        assert r.status_code == 200, (line, r.status_code, r.text)
        body = r.json()
        assert body["ok"], (line, body)
        return body["output"]

    def advance(self, seconds):
        r = self._post(f"/clock/advance?seconds={int(seconds)}")
        assert r.status_code == 200, r.text
        return r.json()

    def network(self, change):
        r = self._post("/network", json=change)
        assert r.status_code == 200, (change, r.status_code, r.text)
        return r

    def journal(self):
        r = self._admin.get(self.admin + "/journal", timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def session(self):
        """A requests session that goes through the lab proxy and trusts the lab CA only."""
        s = requests.Session()
        s.trust_env = False
        s.proxies = {"https": self.proxy, "http": self.proxy}
        s.verify = self.ca
        return s


@pytest.fixture(scope="session")
def lab():
    ready = os.environ.get("HMA_READY")
    if not ready:
        pytest.fail("HMA_READY is not set: run these tests through tests/clients/run.sh")
    lab = Lab(json.loads(ready))
    # What `eval "$(hma-lab env)"` exports, so libraries pick the lab up by configuration only.
    os.environ["HTTPS_PROXY"] = lab.proxy
    os.environ["https_proxy"] = lab.proxy
    os.environ["REQUESTS_CA_BUNDLE"] = lab.ca
    os.environ["SSL_CERT_FILE"] = lab.ca
    os.environ.pop("NO_PROXY", None)
    os.environ.pop("no_proxy", None)
    return lab


def require(available, why):
    """Gate for tests that need a tool outside the venv (curl, chromium): a skip with its reason
    (run.sh passes `-rs`, so pytest lists it as SKIPPED) when the tool is missing, or a failure
    when `CI` is set, because CI installs every client with `make clients` first."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{why}; CI is set, so a missing client is a failure (make clients)")
    pytest.skip(f"{why} (make clients)")


def set_cert_fault(lab, host, fault):
    """Sets (or with None clears) a certificate fault on one lab host name."""
    r = lab._post("/certificates", json={"host": host, "fault": fault})
    assert r.status_code == 200, r.text
    return r.json()
