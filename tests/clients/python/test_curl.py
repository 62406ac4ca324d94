"""curl -v through the lab proxy reproduces the field guide's 401 captures: the same set of
WWW-Authenticate challenges and the same x-ms-diagnostics, for Flighting (OAuth2ClientProfile
disabled), Name Mismatches and SSL Offloading. Each test puts the lab back as it found it."""

import shutil
import subprocess

import pytest

from conftest import GREG, OFFICE, PASSWORD, TENANT, TID, require

@pytest.fixture(autouse=True, scope="module")
def _curl_installed():
    require(shutil.which("curl") is not None, "curl not installed")

BEARER = ('Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
          f'trusted_issuers="00000001-0000-0000-c000-000000000000@{TID}", '
          'token_types="app_asserted_user_v1 service_asserted_app_v1", '
          'authorization_uri="https://login.windows.net/common/oauth2/authorize"')
SETTINGS_CACHE = 900  # the lab's settings_cache_seconds: how long Exchange keeps org config


def curl_v(lab, url, *args):
    """Runs `curl -v` through the proxy; returns (status, [(lowercased name, value)])."""
    out = subprocess.run(
        ["curl", "-sv", "--proxy", lab.proxy, "--cacert", lab.ca, "-o", "/dev/null", *args, url],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    lines = [l[2:].rstrip("\r") for l in out.stderr.splitlines() if l.startswith("< ")]
    # The last response: the proxy's "200 Connection established" comes first.
    starts = [i for i, l in enumerate(lines) if l.startswith("HTTP/")]
    assert starts, out.stderr
    lines = lines[starts[-1]:]
    status = int(lines[0].split()[1])
    headers = []
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            headers.append((k.strip().lower(), v.strip()))
    return status, headers, out.stderr


def values(headers, name):
    return [v for k, v in headers if k == name]


def v1_token(lab, resource):
    r = lab.session().post(f"https://login.microsoftonline.com/{TENANT}/oauth2/token", data={
        "grant_type": "password", "client_id": OFFICE, "resource": resource,
        "username": GREG, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_flighting_capture(lab):
    assert lab.cmdlet("(Get-OrganizationConfig).OAuth2ClientProfileEnabled").strip() == "True"
    lab.cmdlet("Set-OrganizationConfig -OAuth2ClientProfileEnabled $false")
    try:
        lab.advance(SETTINGS_CACHE + 1)
        status, headers, raw = curl_v(
            lab, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
            "-X", "POST", "-H", "Authorization: Bearer", "-H", f"X-AnchorMailbox: {GREG}",
            "-H", "X-ClientApplication: Outlook/16.0.8730.2046",
            "-H", "Content-Type: text/xml", "--data", "")
        assert status == 401, raw
        assert values(headers, "content-length") == ["0"]
        assert values(headers, "www-authenticate") == [
            "Negotiate", "NTLM", 'Basic realm="autodiscover.contoso.com"', BEARER]
        assert values(headers, "x-ms-diagnostics") == [
            "4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";"
            "error_category=\"oauth_not_available\""]
        assert values(headers, "x-powered-by") == ["ASP.NET"]
        assert values(headers, "proxy-support") == ["Session-Based-Authentication"]
        assert len(values(headers, "request-id")) == 1
        assert len(values(headers, "x-feserver")) == 1
        # The names as the capture spells them (IIS 8.5's `Www-Authenticate`, Exchange's
        # `WWW-Authenticate: Bearer`, lowercase `request-id` and `x-ms-diagnostics`).
        received = [l[2:].split(":", 1)[0] for l in raw.splitlines() if l.startswith("< ") and ":" in l]
        for name in ["Content-Length", "Server", "request-id", "Www-Authenticate", "WWW-Authenticate",
                     "X-FEServer", "x-ms-diagnostics", "X-Powered-By", "Date", "Proxy-Support"]:
            assert name in received, (name, received)
        assert "< Www-Authenticate: Negotiate" in raw, raw
        assert "< WWW-Authenticate: Bearer client_id=" in raw, raw
    finally:
        lab.cmdlet("Set-OrganizationConfig -OAuth2ClientProfileEnabled $true")
        lab.advance(SETTINGS_CACHE + 1)
    # Back to HMA: the same request gets the plain challenge, no diagnostics.
    status, headers, _ = curl_v(
        lab, "https://autodiscover.contoso.com/autodiscover/autodiscover.xml",
        "-X", "POST", "-H", "Authorization: Bearer", "-H", f"X-AnchorMailbox: {GREG}",
        "-H", "X-ClientApplication: Outlook/16.0.8730.2046", "--data", "")
    assert status == 401
    assert values(headers, "x-ms-diagnostics") == []
    assert BEARER in values(headers, "www-authenticate")


def test_name_mismatch_capture(lab):
    # A token for Autodiscover's name presented at mail.contoso.com (whose Autodiscover vdir
    # offers Negotiate, NTLM and Basic, as in the capture).
    token = v1_token(lab, "https://autodiscover.contoso.com/")
    status, headers, raw = curl_v(
        lab, "https://mail.contoso.com/autodiscover/autodiscover.xml",
        "-X", "POST", "-H", f"Authorization: Bearer {token}", "--data", "")
    assert status == 401, raw
    assert values(headers, "www-authenticate") == [
        BEARER + ', error="invalid_token"', "Negotiate", "NTLM", 'Basic realm="mail.contoso.com"']
    assert values(headers, "x-ms-diagnostics") == [
        "2000003;reason=\"The hostname component of the audience claim value "
        "'https://autodiscover.contoso.com' is invalid\";error_category=\"invalid_resource\""]
    assert values(headers, "proxy-support") == []


def test_ssl_offloading_capture(lab):
    token = v1_token(lab, "https://mail.contoso.com/")
    url = "https://mail.contoso.com/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=GregT&DeviceId=CI&DeviceType=curl"
    args = ("-X", "POST", "-H", f"Authorization: Bearer {token}",
            "-H", "MS-ASProtocolVersion: 16.0", "--data", "")
    lb = {"load_balancer": {"host": "mail.contoso.com", "ssl_offload": True, "targets": ["EX1"]}}
    lab.network(lb)
    try:
        status, headers, raw = curl_v(lab, url, *args)
        assert status == 401, raw
        assert values(headers, "www-authenticate") == [
            BEARER + ', error="invalid_token"', 'Basic realm="mail.contoso.com"']
        assert values(headers, "x-ms-diagnostics") == [
            "2000003;reason=\"The hostname component of the audience claim value is invalid. "
            "Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";"
            "error_category=\"invalid_resource\""]
    finally:
        lb["load_balancer"]["ssl_offload"] = False
        lab.network(lb)
    # TLS reaches Exchange again: the same token is accepted.
    status, headers, raw = curl_v(lab, url, *args)
    assert values(headers, "x-ms-diagnostics") == [], raw
    assert status != 401, raw
