"""MSAL Python's username/password flow for a federated user, unchanged, against
`hma-lab serve --lab contoso-federated`: user realm discovery answers Federated, MSAL reads the
farm's MEX, sends a WS-Trust RST to ADFS's usernamemixed endpoint and redeems the SAML assertion
at Azure AD's token endpoint (the saml1_1-bearer grant). This module starts its own lab (the
suite's lab is the managed `contoso`) and points MSAL at it through an `http_client` session —
the same proxy and CA configuration `hma-lab env` exports, scoped to this lab. Then headless
Chromium signs GregT in to the web app Contoso Web at ADFS's forms page (Azure AD's username
page sends the browser there; ADFS's auto-submitting form brings it back to login.srf)."""

import http.server
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import urllib.parse

import msal
import pytest
import requests

from conftest import (CONTOSO_WEB, EWS_SCOPE, GREG, GREG_OID, OFFICE, PASSWORD, REPO, SCREENSHOTS,
                      TENANT, TID, claims, require)

AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"
GREG_SID = "S-1-5-21-2366433183-230171048-1893555995-1654"


@pytest.fixture(scope="module")
def federated(tmp_path_factory):
    binary = os.environ.get("HMA_LAB_BIN") or str(REPO / "target" / "debug" / "hma-lab")
    state = tmp_path_factory.mktemp("federated")
    log = open(pathlib.Path(state) / "serve.log", "w")
    proc = subprocess.Popen(
        [binary, "serve", "--lab", "contoso-federated", "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = proc.stdout.readline()
        assert line, "hma-lab serve --lab contoso-federated printed no ready line"
        ready = json.loads(line)
        assert ready["event"] == "ready", ready
        yield ready
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0, "hma-lab serve did not exit 0 on SIGTERM"
        log.close()


def session(ready):
    s = requests.Session()
    s.trust_env = False
    s.proxies = {"https": ready["proxy"], "http": ready["proxy"]}
    s.verify = ready["ca"]
    return s


def journal(ready):
    s = requests.Session()
    s.trust_env = False
    r = s.get(ready["admin"] + "/journal", timeout=30,
              headers={"Authorization": "Bearer " + ready["admin_token"]})
    assert r.status_code == 200, r.text
    return json.dumps(r.json())


def app(ready):
    return msal.PublicClientApplication(OFFICE, authority=AUTHORITY, http_client=session(ready))


def test_msal_ropc_for_a_federated_user_goes_through_ws_trust(federated):
    result = app(federated).acquire_token_by_username_password(GREG, PASSWORD, scopes=[EWS_SCOPE])
    assert "access_token" in result, result
    c = claims(result["access_token"])
    assert c["aud"] == "https://mail.contoso.com"
    assert c["iss"] == f"https://sts.windows.net/{TID}/"
    assert c["tid"] == TID
    assert c["oid"] == GREG_OID
    assert c["upn"] == GREG
    assert c["onprem_sid"] == GREG_SID
    assert c["appid"] == OFFICE
    assert c["scp"] == "EWS.AccessAsUser.All"
    assert result["token_type"] == "Bearer"
    # The path MSAL took: user realm (Federated), the farm's MEX, WS-Trust at ADFS.
    seen = journal(federated)
    assert f"/common/userrealm/{GREG}" in seen
    assert "/adfs/services/trust/mex" in seen
    assert "/adfs/services/trust/" in seen and "usernamemixed" in seen


def test_msal_ropc_federated_wrong_password_is_refused_at_adfs(federated):
    # ADFS answers the RST with a SOAP fault; MSAL raises it rather than returning an error.
    with pytest.raises(RuntimeError) as e:
        app(federated).acquire_token_by_username_password(GREG, "nope", scopes=[EWS_SCOPE])
    assert str(e.value) == (
        "WsTrust server returned error in RSTR: {'reason': 'ID3242: The security token could "
        "not be authenticated or authorized.', 'code': 'a:FailedAuthentication'}")


# ------------------------------------------------------------------ headless Chromium

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REDIRECT = "http://localhost:8400/callback"


class _Callback(http.server.BaseHTTPRequestHandler):
    """Contoso Web's redirect URI: records the query the browser came back with."""
    received = []

    def do_GET(self):
        _Callback.received.append(self.path)
        body = b"<html><body><h1>Signed in</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def chromium(federated, monkeypatch):
    """Headless Chromium through the federated lab's proxy, trusting its CA (own NSS db)."""
    require(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER) and shutil.which("certutil"),
            "chromium, chromium-driver or certutil (libnss3-tools) not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    home = tempfile.mkdtemp(prefix="hma-chromium-fed-")
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "hma-lab CA",
                    "-i", federated["ca"]], check=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--proxy-server={federated['proxy']}", "--proxy-bypass-list=<-loopback>;localhost",
              f"--user-data-dir={home}/profile", "--window-size=1000,900",
              "--no-first-run", "--disable-background-networking"):
        opts.add_argument(a)
    driver = webdriver.Chrome(options=opts,
                              service=Service(executable_path=CHROMEDRIVER,
                                              env=dict(os.environ, HOME=home)))
    driver.set_page_load_timeout(30)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 8400), _Callback)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    _Callback.received.clear()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    srv.shutdown()
    srv.server_close()
    shutil.rmtree(home, ignore_errors=True)


def test_chromium_federated_sign_in_at_the_adfs_forms_page(federated, chromium):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(element_id):
        try:
            WebDriverWait(chromium, 15).until(
                ec.presence_of_element_located((By.ID, element_id)))
        except TimeoutException:
            pytest.fail(f"no #{element_id} on {chromium.current_url}: "
                        f"{chromium.page_source[:1500]}")

    app = msal.ConfidentialClientApplication(
        CONTOSO_WEB, client_credential="contoso-web-secret", authority=AUTHORITY,
        http_client=session(federated))
    flow = app.initiate_auth_code_flow(["https://graph.microsoft.com/User.Read"],
                                       redirect_uri=REDIRECT, prompt="consent")
    chromium.get(flow["auth_uri"])
    wait_for("i0116")
    chromium.find_element(By.ID, "i0116").send_keys(GREG)
    chromium.find_element(By.ID, "idSIButton9").click()
    # Azure AD sends the federated user to the company's ADFS: its forms page, its element ids.
    wait_for("passwordInput")
    assert chromium.current_url.startswith("https://adfs.contoso.com/adfs/ls/"), \
        chromium.current_url
    assert "wa=wsignin1.0" in chromium.current_url
    chromium.save_screenshot(str(SCREENSHOTS / "federated-01-adfs-forms.png"))
    user = chromium.find_element(By.ID, "userNameInput")
    user.clear()
    user.send_keys(GREG)
    chromium.find_element(By.ID, "passwordInput").send_keys(PASSWORD)
    chromium.find_element(By.ID, "submitButton").click()
    # ADFS's auto-submitting form posts the token to login.srf; Azure AD goes on with consent.
    wait_for("idBtn_Back")
    assert chromium.current_url.startswith("https://login.microsoftonline.com/"), \
        chromium.current_url
    assert "Contoso Web" in chromium.page_source
    chromium.find_element(By.ID, "idSIButton9").click()  # Accept
    wait_for("KmsiCheckboxField")
    chromium.find_element(By.ID, "idSIButton9").click()  # Yes
    try:
        WebDriverWait(chromium, 15).until(lambda b: b.current_url.startswith(REDIRECT))
    except TimeoutException:
        pass
    assert chromium.current_url.startswith(REDIRECT), chromium.current_url
    chromium.save_screenshot(str(SCREENSHOTS / "federated-02-callback.png"))

    callbacks = [p for p in _Callback.received if p.startswith("/callback")]
    assert len(callbacks) == 1, _Callback.received
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(callbacks[0]).query)
    result = app.acquire_token_by_auth_code_flow(flow, {k: v[0] for k, v in query.items()})
    assert "access_token" in result, result
    c = claims(result["access_token"])
    assert c["aud"] == "https://graph.microsoft.com"
    assert c["tid"] == TID and c["oid"] == GREG_OID and c["upn"] == GREG
    assert c["onprem_sid"] == GREG_SID
    assert c["appid"] == CONTOSO_WEB
    assert c["scp"] == "User.Read"
    # The token reached Azure AD the federated way, through login.srf.
    assert "/login.srf" in journal(federated)
