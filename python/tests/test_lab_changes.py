"""The admin helpers between two requests: a cmdlet (`Set-OrganizationConfig`) and the clock
(`advance`) change what the lab's Exchange answers to the same request, with the exact
`WWW-Authenticate` and `x-ms-diagnostics` of a real Exchange 2016."""

import pytest
from hma_lab import CmdletError

from conftest import BEARER_CHALLENGE, EWS_URL, GREG, claims, greg_token

AUTODISCOVER = "https://autodiscover.contoso.com/autodiscover/autodiscover.xml"
FINDITEM = """<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"
  xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages">
<soap:Body><m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>
<m:FolderIds><t:DistinguishedFolderId Id="inbox"/></m:FolderIds></m:GetFolder></soap:Body>
</soap:Envelope>"""


def outlook_empty_bearer(lab):
    """Outlook for Windows' first Autodiscover POST: `Authorization: Bearer` with no token."""
    return lab.session().post(AUTODISCOVER, data="", timeout=30, headers={
        "Authorization": "Bearer", "X-AnchorMailbox": GREG, "Content-Type": "text/xml",
        "X-ClientApplication": "Outlook/16.0.8730.2046"})


def test_org_config_cmdlet_turns_off_modern_auth_for_outlook(hma_lab):
    before = outlook_empty_bearer(hma_lab)
    assert before.status_code == 401
    assert "x-ms-diagnostics" not in before.headers
    assert hma_lab.cmdlet("(Get-OrganizationConfig).OAuth2ClientProfileEnabled").strip() == "True"
    assert hma_lab.cmdlet("Set-OrganizationConfig -OAuth2ClientProfileEnabled $false") == ""
    # Exchange keeps the settings it read for 900 s: the same request still has no diagnostics.
    assert "x-ms-diagnostics" not in outlook_empty_bearer(hma_lab).headers
    hma_lab.advance(901)
    after = outlook_empty_bearer(hma_lab)
    assert after.status_code == 401
    assert after.headers["x-ms-diagnostics"] == (
        "4000000;reason=\"Flighting is not enabled for domain 'gregt@contoso.com'.\";"
        "error_category=\"oauth_not_available\"")
    assert after.headers["WWW-Authenticate"] == (
        f'Negotiate, NTLM, Basic realm="autodiscover.contoso.com", {BEARER_CHALLENGE}')


def test_each_test_gets_a_fresh_lab(hma_lab):
    # The test above turned OAuth2ClientProfileEnabled off and moved the clock in its own lab.
    assert hma_lab.cmdlet("(Get-OrganizationConfig).OAuth2ClientProfileEnabled").strip() == "True"
    assert hma_lab.journal() == []


def ews_get_folder(lab, token):
    return lab.session().post(EWS_URL, data=FINDITEM, timeout=30, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "text/xml; charset=utf-8"})


def test_clock_advance_makes_the_token_expire(hma_lab_env):
    token = greg_token()
    ok = ews_get_folder(hma_lab_env, token)
    assert ok.status_code == 200, ok.text
    assert "<t:TotalCount>3</t:TotalCount>" in ok.text
    # Exchange allows 5 minutes of clock skew past `exp`: 5 s before that the token still works,
    # 5 s after it is refused (margins for the real seconds the test itself takes).
    now = hma_lab_env.advance(0)["now"]
    assert claims(token)["exp"] - now > 3500
    hma_lab_env.advance(claims(token)["exp"] + 300 - 5 - now)
    assert ews_get_folder(hma_lab_env, token).status_code == 200
    hma_lab_env.advance(10)
    refused = ews_get_folder(hma_lab_env, token)
    assert refused.status_code == 401
    assert refused.headers["x-ms-diagnostics"] == (
        '2000002;reason="The token has expired.";error_category="token_expired"')
    assert refused.headers["WWW-Authenticate"] == (
        f'{BEARER_CHALLENGE}, error="invalid_token", Negotiate, NTLM')


def test_a_failing_cmdlet_raises_with_the_error_record(hma_lab):
    with pytest.raises(CmdletError) as e:
        hma_lab.cmdlet("Set-OrganizationConfig -NoSuchParameter 1")
    assert e.value.error.startswith(
        "Set-OrganizationConfig : A parameter cannot be found that matches parameter name "
        "'NoSuchParameter'.")



def test_network_and_certificate_helpers(hma_lab_env):
    import requests

    lab = hma_lab_env
    token = greg_token()
    # SSL offloading at a load balancer: Exchange sees http, the audience no longer matches.
    devices = lab.network({"load_balancer": {"host": "mail.contoso.com", "ssl_offload": True,
                                             "targets": ["EX1"]}})["devices"]
    assert devices == lab.network()["devices"]
    r = ews_get_folder(lab, token)
    assert r.status_code == 401
    assert r.headers["x-ms-diagnostics"] == (
        "2000003;reason=\"The hostname component of the audience claim value is invalid. "
        "Expected 'https://mail.contoso.com'. Actual 'http://mail.contoso.com'.\";"
        "error_category=\"invalid_resource\"")
    lab.network({"load_balancer": {"host": "mail.contoso.com", "ssl_offload": False,
                                   "targets": ["EX1"]}})
    assert ews_get_folder(lab, token).status_code == 200
    # A certificate fault: requests (OpenSSL) refuses the handshake with the exact reason.
    assert lab.certificate("mail.contoso.com", "expired")["faults"] == {
        "mail.contoso.com": "expired"}
    with pytest.raises(requests.exceptions.SSLError, match="certificate has expired"):
        requests.get(EWS_URL, timeout=30)
    assert lab.certificate("mail.contoso.com", None)["faults"] == {}
    assert requests.get(EWS_URL, timeout=30).status_code == 401
    # Both handshakes and answers are in the journal and the HAR.
    entries = lab.journal()
    assert [e["method"] for e in entries if e["method"] == "TLS"] == ["TLS"]
    har = lab.har()
    assert har["log"]["version"] == "1.2"
    assert len(har["log"]["entries"]) == len(entries)
    stats = lab.stats()
    assert stats["journal"]["entries"] == len(entries)
