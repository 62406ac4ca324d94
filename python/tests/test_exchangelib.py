"""exchangelib with OAuth (a token from MSAL Python) against the lab's Exchange through the
`hma_lab_env` fixture; a cmdlet between two requests changes what Exchange answers."""

import pytest
from exchangelib import (DELEGATE, OAUTH2, Account, Build, Configuration,
                         OAuth2AuthorizationCodeCredentials, Version)
from exchangelib.errors import UnauthorizedError

from conftest import EWS_URL, GREG, TID, diagnostics, greg_token


def account(token):
    creds = OAuth2AuthorizationCodeCredentials(access_token={
        "access_token": token, "token_type": "Bearer", "expires_in": 3599})
    cfg = Configuration(service_endpoint=EWS_URL, credentials=creds, auth_type=OAUTH2,
                        version=Version(build=Build(15, 1)))
    return Account(GREG, config=cfg, autodiscover=False, access_type=DELEGATE)


def ews_answers(lab):
    return [e for e in lab.journal() if e["url"] == EWS_URL]


def test_getfolder_with_oauth_reads_the_seeded_inbox(hma_lab_env):
    inbox = account(greg_token()).inbox  # GetFolder
    assert inbox.name == "Inbox"
    assert inbox.total_count == 3
    assert inbox.unread_count == 2
    ews = ews_answers(hma_lab_env)
    get_folder = [e for e in ews if "<m:GetFolder" in e["request_body"]["text"]
                  and 'DistinguishedFolderId Id="inbox"' in e["request_body"]["text"]]
    assert len(get_folder) == 1, [e["request_body"]["text"][:300] for e in ews]
    assert get_folder[0]["status"] == 200
    assert get_folder[0]["via"] == "proxy-tls"
    assert [t["claims"]["upn"] for t in get_folder[0]["tokens"]] == [GREG]
    assert "<t:TotalCount>3</t:TotalCount>" in get_folder[0]["response_body"]["text"]


def test_disabling_the_auth_server_refuses_the_next_request(hma_lab_env):
    lab = hma_lab_env
    acct = account(greg_token())
    assert acct.inbox.total_count == 3
    lab.cmdlet("Set-AuthServer EvoSts -Enabled $false")
    lab.cmdlet("iisreset")  # Exchange re-reads its settings now, not after the settings cache
    acct = account(greg_token())
    with pytest.raises(UnauthorizedError):
        acct.inbox.refresh()
    refused = ews_answers(lab)[-1]
    assert refused["status"] == 401
    # The signing key is trusted only through an enabled AuthServer's metadata, and Exchange
    # checks the key before the issuer: the answer is the signature's, not the issuer's.
    assert diagnostics(refused) == [
        '2000000;reason="The token has an invalid signature.";error_category="invalid_signature"']
    assert [t["claims"]["iss"] for t in refused["tokens"]] == [f"https://sts.windows.net/{TID}/"]
