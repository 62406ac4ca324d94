"""exchangelib 5.6.0 against the lab's Exchange, reached by its real names through the lab proxy
(requests honours HTTPS_PROXY and REQUESTS_CA_BUNDLE): OAuth with a token from the lab's Azure
AD, the legacy ROPC credentials, and Basic on the Autodiscover virtual directory."""

import uuid

import msal
import pytest
from exchangelib import (BASIC, DELEGATE, OAUTH2, Account, Build, Configuration, Credentials,
                         Message, OAuth2AuthorizationCodeCredentials, OAuth2LegacyCredentials,
                         Version)
from exchangelib.autodiscover import Autodiscovery, clear_cache
from exchangelib.autodiscover.protocol import AutodiscoverProtocol
from exchangelib.errors import UnauthorizedError

from conftest import (EWS_SCOPE, EWS_URL, GREG, OFFICE, PASSWORD, SEEDED_SUBJECTS, TENANT, TID,
                      claims)


def lab_token():
    app = msal.PublicClientApplication(OFFICE,
                                       authority=f"https://login.microsoftonline.com/{TENANT}")
    result = app.acquire_token_by_username_password(GREG, PASSWORD, scopes=[EWS_SCOPE])
    assert "access_token" in result, result
    return result


def oauth_account(access_token, version=None):
    creds = OAuth2AuthorizationCodeCredentials(access_token={
        "access_token": access_token, "token_type": "Bearer", "expires_in": 3599})
    cfg = Configuration(service_endpoint=EWS_URL, credentials=creds, auth_type=OAUTH2,
                        version=version)
    return Account(GREG, config=cfg, autodiscover=False, access_type=DELEGATE)


def test_oauth_token_reads_the_seeded_inbox_and_creates_an_item(lab):
    account = oauth_account(lab_token()["access_token"])
    # Version guess (ConvertId) read ServerVersionInfo from the lab's Exchange 2016.
    assert account.version.build.major_version == 15
    assert account.version.api_version == "Exchange2016"
    # GetFolder
    inbox = account.inbox
    assert inbox.name == "Inbox"
    assert inbox.total_count == 3
    # FindItem
    items = list(inbox.all().order_by("-datetime_received"))
    assert [i.subject for i in items] == [
        "Lunch?", "Re: SPNs for mail.corp.contoso.com", "Welcome to Hybrid Modern Authentication"]
    assert {i.subject for i in items} == SEEDED_SUBJECTS
    assert items[0].sender.email_address == "PattiF@contoso.com"
    assert [i.is_read for i in items] == [False, True, False]
    # CreateItem (a draft), found again by FindItem.
    subject = f"realclients {uuid.uuid4()}"
    draft = Message(account=account, folder=account.drafts, subject=subject, body="from CI")
    draft.save()
    assert draft.id
    found = list(account.drafts.filter(subject=subject))
    assert [m.subject for m in found] == [subject]
    assert found[0].body == "from CI"


def test_legacy_ropc_credentials_fetch_their_own_token(lab):
    # OAuth2LegacyCredentials posts the password grant to its hard-coded
    # login.microsoftonline.com token URL (reached through the proxy); its scope is Exchange
    # Online's, so a hybrid deployment names its own namespace.
    class OnPremLegacy(OAuth2LegacyCredentials):
        @property
        def scope(self):
            return [EWS_SCOPE]

    creds = OnPremLegacy(username=GREG, password=PASSWORD, client_id=OFFICE,
                         client_secret=None, tenant_id=TENANT)
    cfg = Configuration(service_endpoint=EWS_URL, credentials=creds, auth_type=OAUTH2,
                        version=Version(build=Build(15, 1)))
    account = Account(GREG, config=cfg, autodiscover=False, access_type=DELEGATE)
    assert {i.subject for i in account.inbox.all()} >= SEEDED_SUBJECTS
    token = creds.access_token["access_token"]
    c = claims(token)
    assert (c["upn"], c["tid"], c["aud"]) == (GREG, TID, "https://mail.contoso.com")
    assert c["scp"] == "EWS.AccessAsUser.All"


def test_expired_token_is_refused_by_exchange(lab):
    token = lab_token()["access_token"]
    lab.advance(2 * 3600)  # past exp and the five-minute skew, on the lab clock
    with pytest.raises(UnauthorizedError):
        list(oauth_account(token, Version(build=Build(15, 1))).inbox.all())


def test_basic_on_the_autodiscover_vdir(lab):
    def protocol(password):
        return AutodiscoverProtocol(config=Configuration(
            service_endpoint="https://autodiscover.contoso.com/autodiscover/autodiscover.svc",
            credentials=Credentials(GREG, password), auth_type=BASIC))

    r = protocol(PASSWORD).get_user_settings(user=GREG)
    r.raise_errors()
    assert r.ews_url == EWS_URL
    assert r.version.api_version == "Exchange2016"
    assert r.autodiscover_smtp_address == GREG
    with pytest.raises(UnauthorizedError):
        protocol("wrong").get_user_settings(user=GREG)


def test_soap_autodiscover_by_email_address(lab, monkeypatch):
    # exchangelib checks each candidate host with its own DNS resolver (dnspython, not
    # /etc/hosts); the lab has no DNS, so that check is the one thing patched. The rest is the
    # library's: https://contoso.com/ (refused by the lab proxy: not a lab host), then
    # https://autodiscover.contoso.com/autodiscover/autodiscover.svc, auth type guessed from
    # the 401.
    monkeypatch.setattr(Autodiscovery, "_ensure_valid_hostname", lambda self, url: None)
    clear_cache()
    before = max((e["id"] for e in lab.journal()["entries"]), default=-1)
    account = Account(GREG, credentials=Credentials(GREG, PASSWORD), autodiscover=True,
                      access_type=DELEGATE)
    assert account.protocol.service_endpoint == EWS_URL
    assert account.ad_response.autodiscover_smtp_address == GREG
    assert {i.subject for i in account.inbox.all()} >= SEEDED_SUBJECTS
    # What went over the wire: GetUserSettings at autodiscover.contoso.com, answered 200 after
    # the auth exchange exchangelib chose from the 401's challenges (it prefers NTLM to Basic).
    ad = [e for e in lab.journal()["entries"]
          if e["id"] > before and e["url"] == "https://autodiscover.contoso.com/autodiscover/autodiscover.svc"]
    assert ad and ad[-1]["status"] == 200, [(e["status"], e["url"]) for e in ad]
    schemes = {v.split()[0] for e in ad for k, v in e["request_headers"]
               if k.lower() == "authorization"}
    assert schemes == {"NTLM"}, schemes
