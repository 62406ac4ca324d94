"""MSAL Python's username/password flow for a federated user, unchanged, against
`hma-lab serve --lab contoso-federated`: user realm discovery answers Federated, MSAL reads the
farm's MEX, sends a WS-Trust RST to ADFS's usernamemixed endpoint and redeems the SAML assertion
at Azure AD's token endpoint (the saml1_1-bearer grant). This module starts its own lab (the
suite's lab is the managed `contoso`) and points MSAL at it through an `http_client` session —
the same proxy and CA configuration `hma-lab env` exports, scoped to this lab."""

import json
import os
import pathlib
import subprocess

import msal
import pytest
import requests

from conftest import EWS_SCOPE, GREG, GREG_OID, OFFICE, PASSWORD, REPO, TENANT, TID, claims

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
