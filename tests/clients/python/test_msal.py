"""MSAL Python against the lab, configured only by environment (HTTPS_PROXY + REQUESTS_CA_BUNDLE):
the real authority `https://login.microsoftonline.com/contoso.com`, so MSAL's user-realm call to
port 443 (and any other call to Microsoft's host) reaches the lab through the proxy."""

import json

import msal
import requests

from conftest import (EWS_SCOPE, GREG, GREG_OID, OFFICE, PASSWORD, TENANT, TID, claims)
import signin

AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"


def app():
    # A fresh app (and cache) per test: MSAL throttles and caches per instance.
    return msal.PublicClientApplication(OFFICE, authority=AUTHORITY)


def assert_greg_token(result, amr=("pwd",)):
    assert "access_token" in result, result
    c = claims(result["access_token"])
    assert c["aud"] == "https://mail.contoso.com"
    assert c["iss"] == f"https://sts.windows.net/{TID}/"
    assert c["tid"] == TID
    assert c["oid"] == GREG_OID
    assert c["upn"] == GREG
    assert c["appid"] == OFFICE
    assert c["scp"] == "EWS.AccessAsUser.All"
    assert c["amr"] == list(amr)
    assert result["id_token_claims"]["preferred_username"] == GREG
    assert result["id_token_claims"]["aud"] == OFFICE
    assert result["token_type"] == "Bearer"
    return c


def test_ropc_goes_through_user_realm_discovery(lab):
    a = app()
    result = a.acquire_token_by_username_password(GREG, PASSWORD, scopes=[EWS_SCOPE])
    assert_greg_token(result)
    accounts = a.get_accounts()
    assert [x["home_account_id"] for x in accounts] == [f"{GREG_OID}.{TID}"]
    assert accounts[0]["username"] == GREG
    assert accounts[0]["environment"] == "login.microsoftonline.com"
    # MSAL asked the lab (port 443, through the proxy) whether contoso.com is managed.
    journal = json.dumps(lab.journal())
    assert f"/common/userrealm/{GREG}" in journal


def test_ropc_wrong_password_is_aadsts50126(lab):
    result = app().acquire_token_by_username_password(GREG, "nope", scopes=[EWS_SCOPE])
    assert result["error"] == "invalid_grant", result
    assert result["error_codes"] == [50126]
    assert result["error_description"].startswith(
        "AADSTS50126: Error validating credentials due to invalid username or password.")


def test_ropc_for_an_mfa_user_is_aadsts50076(lab):
    result = app().acquire_token_by_username_password("MeganB@contoso.com", PASSWORD,
                                                      scopes=[EWS_SCOPE])
    assert result["error"] == "invalid_grant", result
    assert result["error_codes"] == [50076]


def test_device_code_completed_on_the_device_page(lab):
    a = app()
    flow = a.initiate_device_flow(scopes=[EWS_SCOPE])
    assert "user_code" in flow, flow
    assert flow["verification_uri"] == "https://login.microsoftonline.com/devicelogin"
    assert flow["message"] == (
        "To sign in, use a web browser to open the page "
        "https://login.microsoftonline.com/devicelogin and enter the code "
        f"{flow['user_code']} to authenticate.")
    last = signin.complete_device_code(lab.session(), flow["verification_uri"],
                                       flow["user_code"], GREG, PASSWORD)
    assert last  # the page after "Continue"
    result = a.acquire_token_by_device_flow(flow)
    assert_greg_token(result)
    # A device code is redeemed once.
    again = requests.post(f"{AUTHORITY}/oauth2/v2.0/token", timeout=30, data={
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "client_id": OFFICE, "device_code": flow["device_code"]})
    assert again.status_code == 400
    assert again.json()["error"] == "bad_verification_code"
    assert again.json()["error_codes"] == [70018]


def test_refresh_via_acquire_token_silent_after_an_hour(lab):
    a = app()
    first = a.acquire_token_by_username_password(GREG, PASSWORD, scopes=[EWS_SCOPE])
    c1 = assert_greg_token(first)
    account = a.get_accounts()[0]
    # Still fresh: served from MSAL's cache, the very same token.
    cached = a.acquire_token_silent([EWS_SCOPE], account=account)
    assert cached["access_token"] == first["access_token"]
    assert cached["token_source"] == "cache"
    # An hour later on the lab clock the token has expired at Azure AD and Exchange. MSAL's own
    # freshness check uses the wall clock, so ask it to refresh: it redeems its refresh token.
    lab.advance(3600)
    refreshed = a.acquire_token_silent([EWS_SCOPE], account=account, force_refresh=True)
    assert refreshed["token_source"] == "identity_provider", refreshed
    c2 = assert_greg_token(refreshed)
    assert refreshed["access_token"] != first["access_token"]
    assert c2["iat"] >= c1["iat"] + 3600
    assert c2["exp"] >= c1["exp"] + 3600


def test_password_change_makes_the_refresh_fail_with_aadsts50173(lab):
    user = "AlexW@contoso.com"
    lab.cmdlet(f"Set-MsolUserPassword -UserPrincipalName {user} -NewPassword 'Fabrikam2018!a' "
               "-ForceChangePassword $false")
    lab.advance(60)
    a = app()
    first = a.acquire_token_by_username_password(user, "Fabrikam2018!a", scopes=[EWS_SCOPE])
    assert "access_token" in first, first
    account = a.get_accounts()[0]
    lab.advance(60)
    lab.cmdlet(f"Set-MsolUserPassword -UserPrincipalName {user} -NewPassword 'Fabrikam2018!b' "
               "-ForceChangePassword $false")
    lab.advance(60)
    result = a.acquire_token_silent_with_error([EWS_SCOPE], account=account, force_refresh=True)
    assert result["error"] == "invalid_grant", result
    assert result["error_codes"] == [50173]
    assert result["error_description"].startswith(
        "AADSTS50173: The provided grant has expired due to it being revoked. The user might "
        "have changed or reset their password. The grant was issued on '")
    assert "' and the TokensValidFrom date for this user is '" in result["error_description"]
    # The new password works.
    ok = app().acquire_token_by_username_password(user, "Fabrikam2018!b", scopes=[EWS_SCOPE])
    assert claims(ok["access_token"])["upn"] == user


def test_unregistered_resource_v2_is_aadsts500011(lab):
    result = app().acquire_token_by_username_password(
        GREG, PASSWORD, scopes=["https://nothere.contoso.com/.default"])
    assert result["error"] == "invalid_resource", result
    assert result["error_codes"] == [500011]
    assert result["error_description"].startswith(
        "AADSTS500011: The resource principal named https://nothere.contoso.com was not found "
        "in the tenant named ")


def test_unregistered_resource_v1_is_aadsts50001(lab):
    # ADAL-style v1 request (MSAL speaks v2 only): the field guide's "Missing SPNs" error.
    r = lab.session().post(f"{AUTHORITY}/oauth2/token", timeout=30, data={
        "grant_type": "password", "client_id": OFFICE, "username": GREG, "password": PASSWORD,
        "resource": "https://nothere.contoso.com/"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_resource"
    assert body["error_codes"] == [50001]
    assert body["error_description"].startswith(
        "AADSTS50001: The application named https://nothere.contoso.com/ was not found in the "
        "tenant named contoso.com.")
