"""Constants of the shipped `contoso` lab and small helpers for the package's own tests. The
fixtures (`hma_lab`, `hma_lab_env`, …) are not defined here: they come from the installed
wheel's pytest plugin."""

import base64
import json

import msal

pytest_plugins = ["pytester"]

TENANT = "contoso.com"
TID = "f31f3647-5d87-4b69-a0b6-73f62aeab14c"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"
OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"  # Microsoft Office, public client
DAEMON = "175cf0e3-733c-4a81-9b28-61f662f95c16"  # Contoso Daemon, full_access_as_app
DAEMON_SECRET = "contoso-daemon-secret"
GREG = "GregT@contoso.com"
GREG_OID = "7f199a96-50b1-4675-9db0-57b362c5d564"
PASSWORD = "Contoso2017!"
EWS_SCOPE = "https://mail.contoso.com/EWS.AccessAsUser.All"
EWS_URL = "https://mail.contoso.com/EWS/Exchange.asmx"
BEARER_CHALLENGE = (
    'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", '
    f'trusted_issuers="00000001-0000-0000-c000-000000000000@{TID}", '
    'token_types="app_asserted_user_v1 service_asserted_app_v1", '
    'authorization_uri="https://login.windows.net/common/oauth2/authorize"')


def claims(jwt):
    """The payload of a JWT (the lab signs; Exchange verifies)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def greg_token():
    """Greg's EWS token by ROPC through MSAL Python (needs the lab's environment set)."""
    app = msal.PublicClientApplication(OFFICE, authority=AUTHORITY)
    result = app.acquire_token_by_username_password(GREG, PASSWORD, scopes=[EWS_SCOPE])
    assert "access_token" in result, result
    return result["access_token"]


def diagnostics(entry):
    """The x-ms-diagnostics values of a journal entry's response."""
    return [v for k, v in entry["response_headers"] if k == "x-ms-diagnostics"]
