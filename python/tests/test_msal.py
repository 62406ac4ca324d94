"""MSAL Python against the lab through the `hma_lab_env` fixture: the real authority
`https://login.microsoftonline.com/contoso.com`, reached by the environment alone."""

import msal

from conftest import (AUTHORITY, DAEMON, DAEMON_SECRET, GREG, GREG_OID, OFFICE, PASSWORD, TID,
                      EWS_SCOPE, claims)


def test_ropc_token_for_exchange(hma_lab_env):
    app = msal.PublicClientApplication(OFFICE, authority=AUTHORITY)
    r = app.acquire_token_by_username_password(GREG, PASSWORD, scopes=[EWS_SCOPE])
    assert "access_token" in r, r
    c = claims(r["access_token"])
    assert c["aud"] == "https://mail.contoso.com"
    assert c["iss"] == f"https://sts.windows.net/{TID}/"
    assert (c["upn"], c["oid"], c["tid"], c["appid"]) == (GREG, GREG_OID, TID, OFFICE)
    assert c["scp"] == "EWS.AccessAsUser.All"
    assert c["amr"] == ["pwd"]
    # MSAL's user-realm discovery and the token request went through the lab's front door.
    urls = [(e["method"], e["url"], e["status"]) for e in hma_lab_env.journal()]
    assert ("GET", f"https://login.microsoftonline.com/common/userrealm/{GREG}?api-version=1.0",
            200) in urls
    assert ("POST", f"https://login.microsoftonline.com/{TID}/oauth2/v2.0/token", 200) in urls


def test_ropc_wrong_password_is_aadsts50126(hma_lab_env):
    app = msal.PublicClientApplication(OFFICE, authority=AUTHORITY)
    r = app.acquire_token_by_username_password(GREG, "wrong", scopes=[EWS_SCOPE])
    assert r["error"] == "invalid_grant"
    assert r["error_codes"] == [50126]
    assert r["error_description"].startswith(
        "AADSTS50126: Error validating credentials due to invalid username or password.")


def test_client_credentials_token_has_the_exchange_app_role(hma_lab_env):
    app = msal.ConfidentialClientApplication(DAEMON, client_credential=DAEMON_SECRET,
                                             authority=AUTHORITY)
    r = app.acquire_token_for_client(scopes=["https://mail.contoso.com/.default"])
    assert "access_token" in r, r
    c = claims(r["access_token"])
    assert c["aud"] == "https://mail.contoso.com"
    assert (c["appid"], c["tid"]) == (DAEMON, TID)
    assert c["roles"] == ["full_access_as_app"]
    assert "upn" not in c and "scp" not in c
    # The journal keeps the token request with the secret redacted.
    posts = [e["request_body"]["text"] for e in hma_lab_env.journal() if e["method"] == "POST"]
    assert posts == [f"client_id={DAEMON}&grant_type=client_credentials&client_info=1"
                     "&client_secret=[redacted]&scope=https%3A%2F%2Fmail.contoso.com%2F.default"]
