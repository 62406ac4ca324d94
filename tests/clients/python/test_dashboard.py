"""The dashboard in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium),
opened with the ready line's one-time link as an instructor would: an SSL-offload fault applied
from the dashboard's own controls makes Exchange answer 2000003, the timeline shows it live, one
click opens the request with the decoded token whose audience check fails, and a clock button
moves the lab clock. Screenshots at 1280x800 land in target/screenshots/ (the book's
guide/dashboard.md uses them). Everything it changes is put back: the load balancer's offload
is turned off again, and the clock only ever moves forward by five minutes."""

import os
import shutil
import tempfile

import pytest
import requests

from conftest import OFFICE, PASSWORD, SCREENSHOTS, TENANT, GREG, require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
OFFLOAD_DIAG = ("2000003;reason=\"The hostname component of the audience claim value is invalid. "
                "Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";"
                "error_category=\"invalid_resource\"")


@pytest.fixture(autouse=True, scope="module")
def _browser_installed():
    require(os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER),
            "chromium or chromium-driver not installed")


@pytest.fixture
def browser(monkeypatch):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # The dashboard is on the loopback admin listener: never through the lab proxy.
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    home = tempfile.mkdtemp(prefix="hma-chromium-dash-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-proxy-server", f"--user-data-dir={home}/profile", "--window-size=1280,800",
              "--no-first-run", "--disable-background-networking", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    service = Service(executable_path=CHROMEDRIVER, env=dict(os.environ, HOME=home))
    driver = webdriver.Chrome(options=opts, service=service)
    driver.set_page_load_timeout(30)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(home, ignore_errors=True)


def _wait(browser, what, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(browser, timeout).until(what)


def _offset(lab):
    """The lab clock's offset, read without moving it."""
    return lab.advance(0)["offset_secs"]


def test_dashboard_shows_2000003_the_failing_audience_and_moves_the_clock(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    shots = []

    def shot(name):
        path = SCREENSHOTS / f"dashboard-{len(shots) + 1:02d}-{name}.png"
        assert browser.save_screenshot(str(path)), path
        shots.append(path)

    # The ready line's link: its one-time secret becomes the session cookie.
    browser.get(lab.ready["dashboard"])
    assert browser.current_url == lab.admin + "/dashboard", browser.current_url
    _wait(browser, lambda b: b.find_element(By.ID, "live").text == "live")
    assert "hma-lab" in browser.title

    def apply(change):
        Select(browser.find_element(By.ID, "dev-host")).select_by_visible_text("mail.contoso.com")
        Select(browser.find_element(By.ID, "dev-change")).select_by_value(change)
        browser.find_element(By.CSS_SELECTOR, "form[data-action=device] button").click()

    apply("ssl-offload-on")
    _wait(browser, lambda b: b.find_element(By.ID, "result").text
          == "SSL offload on at mail.contoso.com's load balancer")
    # Earlier tests of the session left their own rows: only the ones after this count.
    seen = max((e["id"] for e in lab.journal()["entries"]), default=0)
    try:
        # A client signs in and calls EWS through the lab, by configuration only.
        s = lab.session()
        r = s.post(f"https://login.microsoftonline.com/{TENANT}/oauth2/token", timeout=30, data={
            "grant_type": "password", "client_id": OFFICE, "resource": "https://mail.contoso.com",
            "username": GREG, "password": PASSWORD})
        assert r.status_code == 200, r.text
        at = r.json()["access_token"]
        r = s.get("https://mail.contoso.com/EWS/Exchange.asmx", timeout=30,
                  headers={"Authorization": "Bearer " + at})
        assert r.status_code == 401
        assert r.headers["x-ms-diagnostics"] == OFFLOAD_DIAG

        def failing_row(b):
            for tr in b.find_elements(By.CSS_SELECTOR, "#rows tr"):
                cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                if (int(cells[0]) > seen and cells[3] == "mail.contoso.com"
                        and cells[4] == "/EWS/Exchange.asmx" and cells[5] == "401"
                        and cells[8] == "2000003"):
                    return tr
            return False

        row = _wait(browser, failing_row)
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        assert cells[6] == "Exchange EX1 via LB mail.contoso.com (SSL offload)"
        assert cells[7] == "Bearer"
        assert row.find_element(By.CSS_SELECTOR, "td.diag").get_attribute("title") == OFFLOAD_DIAG
        shot("timeline")

        # Keyboard: the row takes focus and Enter opens it.
        browser.execute_script("arguments[0].focus()", row)
        row.send_keys(Keys.ENTER)
        _wait(browser, lambda b: "Exchange's checks" in b.find_element(By.ID, "detail-body").text)
        checks = {}
        for tr in browser.find_elements(By.CSS_SELECTOR, "#detail-body table.checks tbody tr"):
            name, result, detail = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            checks[name] = (result, detail)
        assert checks["audience"][0] == "✗ fail", checks
        assert checks["audience"][1].startswith(
            "aud https://mail.contoso.com, request arrived as http://mail.contoso.com: 2000003;"), checks
        assert checks["issuer"][0] == "✓ pass", checks
        assert checks["lifetime"][0] == "✓ pass", checks
        verdict = browser.find_element(By.CSS_SELECTOR, "#detail-body .verdict").text
        assert "Cause: SSL offloading" in verdict and "SSL Offloading" in verdict, verdict
        body = browser.find_element(By.ID, "detail-body")
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'})",
                               browser.find_element(By.ID, "detail"))
        browser.execute_script("document.getElementById('detail-body').scrollTop = 0")
        shot("token")
        assert at.split(".")[2] not in body.get_attribute("innerHTML")
    finally:
        apply("ssl-offload-off")
        _wait(browser, lambda b: b.find_element(By.ID, "result").text
              == "SSL offload off at mail.contoso.com's load balancer")

    # A control moves the lab clock: the header follows, the lab agrees.
    before = _offset(lab)
    browser.execute_script("window.scrollTo(0, 0)")
    browser.find_element(By.CSS_SELECTOR, "form[data-action=clock] button[value='300']").click()
    _wait(browser, lambda b: b.find_element(By.ID, "offset").text == f"(moved {before + 300} s)")
    assert _offset(lab) == before + 300
    assert browser.find_element(By.ID, "result").text.startswith("the lab clock is now ")
    shot("clock")

    assert [p.name for p in shots] == [
        "dashboard-01-timeline.png", "dashboard-02-token.png", "dashboard-03-clock.png"]
    assert all(p.stat().st_size > 10000 for p in shots)


def test_the_dashboard_link_works_once(lab):
    # The browser test may have spent the ready line's link already; either way, after one
    # use the link only brings the login page, which asks for the admin token.
    s = requests.Session()
    s.trust_env = False
    first = s.get(lab.ready["dashboard"], allow_redirects=False, timeout=30)
    assert first.status_code in (303, 401), first.status_code
    r = requests.Session()
    r.trust_env = False
    r = r.get(lab.ready["dashboard"], allow_redirects=False, timeout=30)
    assert r.status_code == 401
    assert "That login link was used already" in r.text
    assert 'name="token" type="password"' in r.text
