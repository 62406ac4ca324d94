"""Headless Chromium (Debian's chromium + chromium-driver, driven by Selenium) at the lab's
sign-in pages: MSAL Python's auth code + PKCE flow for the web app "Contoso Web", signed in as
MeganB (per-user MFA, code 123456), who consents to the app. The browser reaches
login.microsoftonline.com through the lab proxy and trusts the lab CA through its own NSS
database (no certificate errors ignored). A screenshot of every page is kept in
target/screenshots/ (a CI artifact)."""

import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.parse

import msal
import pytest

from conftest import CONTOSO_WEB, PASSWORD, SCREENSHOTS, TENANT, TID, claims, require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
MEGAN = "MeganB@contoso.com"
MEGAN_OID = "79085327-c7ae-42bd-864c-9b59f5ab3338"
REDIRECT = "http://localhost:8400/callback"

@pytest.fixture(autouse=True, scope="module")
def _browser_installed():
    require(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER) and shutil.which("certutil"),
            "chromium, chromium-driver or certutil (libnss3-tools) not installed")


class _Callback(http.server.BaseHTTPRequestHandler):
    """The web app's redirect URI: records the query Azure AD sent the browser back with."""
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
def callback_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 8400), _Callback)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _Callback.received.clear()
    yield _Callback.received
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def browser(lab, monkeypatch):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # Selenium talks to chromedriver on loopback; `hma-lab env` sends HTTP through the lab
    # proxy, which (rightly) refuses hosts outside the lab.
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")

    home = tempfile.mkdtemp(prefix="hma-chromium-")
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "hma-lab CA",
                    "-i", lab.ca], check=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--proxy-server={lab.proxy}", "--proxy-bypass-list=<-loopback>;localhost",
              f"--user-data-dir={home}/profile", "--window-size=1000,900",
              "--no-first-run", "--disable-background-networking"):
        opts.add_argument(a)
    env = dict(os.environ, HOME=home)
    service = Service(executable_path=CHROMEDRIVER, env=env)
    driver = webdriver.Chrome(options=opts, service=service)
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(home, ignore_errors=True)


def test_auth_code_pkce_with_mfa_and_consent(lab, browser, callback_server):
    from selenium.webdriver.common.by import By

    shots = []

    def shot(name):
        path = SCREENSHOTS / f"{len(shots) + 1:02d}-{name}.png"
        assert browser.save_screenshot(str(path)), path
        shots.append(path)

    def page_has(element_id):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            WebDriverWait(browser, 15).until(ec.presence_of_element_located((By.ID, element_id)))
            return True
        except TimeoutException:
            return False

    app = msal.ConfidentialClientApplication(
        CONTOSO_WEB, client_credential="contoso-web-secret",
        authority=f"https://login.microsoftonline.com/{TENANT}")
    # prompt=consent: the consent page every run, whatever an earlier run recorded.
    flow = app.initiate_auth_code_flow(["https://graph.microsoft.com/User.Read"],
                                       redirect_uri=REDIRECT, prompt="consent")
    assert "code_challenge=" in flow["auth_uri"] and "code_challenge_method=S256" in flow["auth_uri"]

    browser.get(flow["auth_uri"])
    assert page_has("i0116"), browser.page_source[:2000]
    assert browser.current_url.startswith("https://login.microsoftonline.com/")
    shot("username")
    browser.find_element(By.ID, "i0116").send_keys(MEGAN)
    browser.find_element(By.ID, "idSIButton9").click()
    assert page_has("i0118"), browser.page_source[:2000]
    shot("password")
    browser.find_element(By.ID, "i0118").send_keys(PASSWORD)
    browser.find_element(By.ID, "idSIButton9").click()
    assert page_has("idTxtBx_SAOTCC_OTC"), browser.page_source[:2000]
    shot("mfa-code")
    # A wrong code first: the page says so and asks again.
    browser.find_element(By.ID, "idTxtBx_SAOTCC_OTC").send_keys("000000")
    browser.find_element(By.ID, "idSubmit_SAOTCC_Continue").click()
    assert page_has("idSpan_SAOTCC_Error_OTC"), browser.page_source[:2000]
    err = browser.find_element(By.ID, "idSpan_SAOTCC_Error_OTC").text
    assert "You didn't enter the expected verification code." in err
    shot("mfa-wrong-code")
    browser.find_element(By.ID, "idTxtBx_SAOTCC_OTC").send_keys("123456")
    browser.find_element(By.ID, "idSubmit_SAOTCC_Continue").click()
    assert page_has("idBtn_Back") and "Permissions requested" in browser.page_source, \
        browser.page_source[:2000]
    assert "Contoso Web" in browser.page_source
    shot("consent")
    browser.find_element(By.ID, "idSIButton9").click()  # Accept
    assert page_has("KmsiCheckboxField"), browser.page_source[:2000]
    shot("stay-signed-in")
    browser.find_element(By.ID, "idSIButton9").click()  # Yes
    # The click only starts the navigation: wait for the redirect to land on the callback.
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        WebDriverWait(browser, 15).until(lambda b: b.current_url.startswith(REDIRECT))
    except TimeoutException:
        pass
    assert browser.current_url.startswith(REDIRECT), browser.current_url
    shot("callback")

    callbacks = [p for p in callback_server if p.startswith("/callback")]  # not /favicon.ico
    assert len(callbacks) == 1, callback_server
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(callbacks[0]).query)
    auth_response = {k: v[0] for k, v in query.items()}
    assert auth_response["state"] == flow["state"]
    result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    assert "access_token" in result, result
    c = claims(result["access_token"])
    assert c["aud"] == "https://graph.microsoft.com"
    assert c["tid"] == TID and c["oid"] == MEGAN_OID and c["upn"] == MEGAN
    assert c["appid"] == CONTOSO_WEB
    assert c["amr"] == ["pwd", "mfa"]
    assert c["scp"] == "User.Read"
    # MSAL checked the id_token's nonce against the flow's.
    assert result["id_token_claims"]["preferred_username"] == MEGAN
    assert [p.name for p in shots] == [
        "01-username.png", "02-password.png", "03-mfa-code.png", "04-mfa-wrong-code.png",
        "05-consent.png", "06-stay-signed-in.png", "07-callback.png"]
    assert all(p.stat().st_size > 1000 for p in shots)
