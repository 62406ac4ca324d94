"""Certificate faults on the TLS path: with an expired certificate, one for another name, or one
from a CA the client does not trust, real clients fail their TLS handshake exactly as against a
bad real certificate (the field guide: certificate errors "will stop this flow in its tracks"),
and the flow works again once the fault is cleared."""

import subprocess

import pytest
import requests

from conftest import EWS_URL, set_cert_fault

HOST = "mail.contoso.com"
FAULTS = {
    # fault -> (OpenSSL's reason as requests/urllib3 report it, curl's exit code)
    "expired": ("certificate verify failed: certificate has expired", 60),
    "wrong_name": (f"certificate verify failed: Hostname mismatch, certificate is not valid "
                   f"for '{HOST}'", 60),
    "untrusted": ("certificate verify failed: unable to get local issuer certificate", 60),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_certificate_fault_stops_the_client(lab, fault):
    reason, curl_rc = FAULTS[fault]
    set_cert_fault(lab, HOST, fault)
    try:
        with pytest.raises(requests.exceptions.SSLError) as e:
            lab.session().post(EWS_URL, data=b"", timeout=30)
        assert reason in str(e.value), str(e.value)
        out = subprocess.run(["curl", "-s", "--proxy", lab.proxy, "--cacert", lab.ca,
                              "-o", "/dev/null", "-X", "POST", EWS_URL],
                             capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
        assert out.returncode == curl_rc, out
        # Only that host: Azure AD's names still present a good certificate.
        ok = lab.session().get(
            "https://login.microsoftonline.com/contoso.com/v2.0/.well-known/openid-configuration",
            timeout=30)
        assert ok.status_code == 200
    finally:
        set_cert_fault(lab, HOST, None)
    r = lab.session().post(EWS_URL, data=b"", timeout=30)
    assert r.status_code == 401  # TLS fine again; Exchange asks for credentials
