"""OAuth2 sign-in settings (SPEC 17): `oauth2` keys, `[oauth2.*]` tables, scopes, the token
store and the provider errors in words."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from decliner import config as cfg
from decliner.auth import advice, providers
from decliner.auth.store import Access, TokenFile, Tokens
from decliner.auth.tokens import access_token, token_file
from decliner.cli.main import cli
from decliner.config.credentials import calendar_credential, smtp_credential
from decliner.errors import ConfigError, RuntimeFailure, SignInNeeded

BASE = """
[account]
name = "Jane Doe"
email = "jane@gmail.com"
[imap]
host = "imap.gmail.com"
oauth2 = "{name}"
[smtp]
host = "smtp.gmail.com"
"""
GOOGLE = '[oauth2.google]\nclient_id = "id.apps.googleusercontent.com"\nclient_secret = "s"\n'
MICROSOFT = '[oauth2.microsoft]\nclient_id = "abc"\ntenant = "consumers"\n'


def load(tmp_path: Path, text: str) -> cfg.Config:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return cfg.load(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return caught.value.problems


def test_problems_name_the_file_and_key(tmp_path: Path) -> None:
    """Each mistake is one line naming config.toml and the key: a missing table, a key a
    built-in table does not take, a custom provider without endpoints, a bad tenant."""
    path = tmp_path / "config.toml"
    found = problems(
        tmp_path,
        BASE.format(name="google")
        + '[calendar]\nurl = "https://x.example/"\noauth2 = "work"\n'
        + '[oauth2.microsoft]\nclient_id = "a"\ntenant = "no such tenant"\n'
        + '[oauth2.other]\nclient_id = "a"\nauthorize_url = "http://idp.example/a"\n'
        + '[oauth2.google2]\nclient_id = "x"\ntoken_url = "https://t.example/"\nscopes = ["m"]\n'
        + 'authorize_url = "https://a.example/"\n',
    )
    assert (
        f"{path}: [imap].oauth2: add an [oauth2.google] table with the client_id you registered"
        in found
    )
    assert any(p.startswith(f"{path}: [calendar].oauth2: no [oauth2.work] table") for p in found)
    assert any(p.startswith(f"{path}: [oauth2.microsoft].tenant: ") for p in found)
    assert (
        f"{path}: [oauth2.other].token_url: required for a provider that is not built in" in found
    )
    assert any(p.startswith(f"{path}: [oauth2.other].scopes: required") for p in found)
    assert any(
        "[oauth2.other].authorize_url: http:// would send tokens unencrypted" in p for p in found
    )
    assert not any("[oauth2.google2]." in p for p in found)
    found = problems(tmp_path, BASE.format(name="google") + GOOGLE + 'token_url = "https://x/"\n')
    assert any(p.startswith(f"{path}: [oauth2.google].token_url: not used:") for p in found)


def test_microsoft_has_no_caldav(tmp_path: Path) -> None:
    """[calendar] signing in with Microsoft is refused: Microsoft offers no CalDAV."""
    text = BASE.format(name="microsoft") + MICROSOFT
    text += '[calendar]\nurl = "https://x.example/"\noauth2 = "microsoft"\n'
    assert any(
        "[calendar].oauth2: Microsoft offers no CalDAV" in p for p in problems(tmp_path, text)
    )


def test_google_scopes_follow_what_is_configured(tmp_path: Path) -> None:
    """Google: the mail scope for IMAP and SMTP; the calendar scope only with a [calendar]
    that signs in with Google (its own key or the IMAP one it falls back to)."""
    config = load(tmp_path, BASE.format(name="google") + GOOGLE)
    google = providers.provider(config, "google")
    assert google.all_scopes == (providers.GOOGLE_MAIL,)
    assert ("access_type", "offline") in google.extra_authorize
    with_calendar = BASE.format(name="google") + GOOGLE
    with_calendar += '[calendar]\nurl = "https://apidata.googleusercontent.com/caldav/v2/"\n'
    google = providers.provider(load(tmp_path, with_calendar), "google")
    assert google.all_scopes == (providers.GOOGLE_MAIL, providers.GOOGLE_CALENDAR)
    assert google.scopes["calendar"] == (providers.GOOGLE_CALENDAR,)
    own = with_calendar.replace('caldav/v2/"\n', 'caldav/v2/"\npassword = "x"\n')
    assert providers.provider(load(tmp_path, own), "google").all_scopes == (providers.GOOGLE_MAIL,)


def test_microsoft_scopes_and_tenant(tmp_path: Path) -> None:
    """Microsoft: IMAP and SMTP on outlook.office.com plus offline_access, endpoints of the
    tenant, a refresh that names the resource's scopes, and no revocation endpoint."""
    microsoft = providers.provider(
        load(tmp_path, BASE.format(name="microsoft") + MICROSOFT), "microsoft"
    )
    assert microsoft.all_scopes == providers.MICROSOFT_MAIL
    assert "offline_access" in microsoft.all_scopes
    assert microsoft.token_url == "https://login.microsoftonline.com/consumers/oauth2/v2.0/token"
    assert microsoft.refresh_names_scope and not microsoft.revoke_url
    assert providers.names(load(tmp_path, BASE.format(name="microsoft") + MICROSOFT)) == (
        "microsoft",
    )


def test_token_file_is_private_and_replaced_whole(tmp_path: Path) -> None:
    """Stored tokens are mode 0600, read back as written, and no temp file is left; a
    systemd credential is read too, and of the two the later sign-in is used."""
    store = TokenFile(tmp_path / "state", "google", env={})
    assert store.load() is None
    tokens = Tokens("rt-CANARY-1", {"imap": Access("at-CANARY-1", 2000.0, 1000.0)}, 1000.0)
    store.save(tokens)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load() == tokens
    assert sorted(p.name for p in store.path.parent.iterdir()) == ["oauth2-google.json"]
    assert "CANARY" not in repr(tokens)
    creds = tmp_path / "creds"
    creds.mkdir()
    os.link(store.path, creds / "decliner-oauth2-google")
    assert store.delete()
    from_systemd = TokenFile(
        tmp_path / "state", "google", env={"CREDENTIALS_DIRECTORY": str(creds)}
    )
    assert from_systemd.load() == tokens
    rotated = Tokens("rt-CANARY-2", {}, 1000.0)
    from_systemd.save(rotated)  # a rotation is kept in the state directory
    assert from_systemd.load() == rotated
    newer = Tokens("rt-CANARY-3", {}, 5000.0)
    from_systemd.save(newer)
    assert from_systemd.load() == newer
    store.path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RuntimeFailure, match="sign in again: decliner login") as caught:
        from_systemd.load()
    assert "CANARY" not in str(caught.value)


def test_renew_before_expiry() -> None:
    """A token is renewed when half its life, or 5 minutes, is left, whichever is sooner."""
    assert Access("t", 1010.0, 1000.0).renew_at == 1005.0
    assert Access("t", 4600.0, 1000.0).renew_at == 4300.0


@pytest.mark.parametrize(
    ("error", "description", "provider", "days", "expected"),
    [
        ("invalid_grant", "", "", 0, "sign in again: decliner login"),
        ("invalid_grant", "Token has been expired or revoked.", "google", 7, "publish the app"),
        ("redirect_uri_mismatch", "", "google", 0, "redirect URI is not registered"),
        (
            "invalid_request",
            "AADSTS50011: The redirect URI ... does not match",
            "",
            0,
            "redirect URI is not registered",
        ),
        (
            "invalid_grant",
            "AADSTS65001: The user or administrator has not consented",
            "",
            0,
            "administrator's consent",
        ),
        ("disabled_client", "The OAuth client was disabled.", "google", 0, "client is disabled"),
        ("deleted_client", "", "google", 0, "was deleted"),
        (
            "unauthorized_client",
            "AADSTS700016: Application not found",
            "",
            0,
            "client id is unknown",
        ),
        ("access_denied", "", "", 0, "access was denied"),
        ("weird", "something odd", "", 0, "the provider answered weird: something odd"),
    ],
)
def test_provider_errors_say_what_to_do(
    error: str, description: str, provider: str, days: float, expected: str
) -> None:
    """Google's and Microsoft's documented error codes become what the user should do."""
    assert expected in advice.explain(error, description, provider=provider, days_signed_in=days)


def test_a_part_added_after_login_asks_to_sign_in_again(tmp_path: Path) -> None:
    """[calendar] added after a Google login that granted only mail: the calendar's token
    is "sign in again" (the consent lacks its scope), while IMAP goes on with its token;
    Microsoft's offline_access need not be echoed in the grant."""
    text = BASE.format(name="google") + GOOGLE + '[state]\npath = "state.db"\n'
    text += '[calendar]\nurl = "https://apidata.googleusercontent.com/caldav/v2/"\n'
    config = load(tmp_path, text)
    fresh = Access("at-CANARY-9", time.time() + 3600, time.time())
    token_file(config, "google").save(
        Tokens("rt-CANARY-9", {"imap": fresh, "smtp": fresh}, 1.0, (providers.GOOGLE_MAIL,))
    )
    assert access_token(config, "google", "imap") == fresh
    with pytest.raises(
        SignInNeeded, match=r"does not cover calendar .*sign in again: decliner login"
    ):
        access_token(config, "google", "calendar")
    with pytest.raises(SignInNeeded, match="does not cover calendar"):
        calendar_credential(config)  # [calendar] signs in with the IMAP sign-in, for itself
    assert smtp_credential(config).secret == fresh.token  # Google's one token serves SMTP
    text = BASE.format(name="microsoft") + MICROSOFT + '[state]\npath = "state.db"\n'
    config = load(tmp_path, text)
    granted = tuple(s for s in providers.MICROSOFT_MAIL if s != "offline_access")
    token_file(config, "microsoft").save(Tokens("rt-CANARY-8", {"imap": fresh}, 1.0, granted))
    assert access_token(config, "microsoft", "imap") == fresh


def test_device_grant_needs_a_device_endpoint(tmp_path: Path) -> None:
    """Login --device is refused with a reason for Google (no mail scope on that grant) and
    for a provider without device_url; login without any oauth2 says there is nothing to do."""
    path = tmp_path / "config.toml"
    path.write_text(BASE.format(name="google") + GOOGLE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "login", "--device"])
    assert result.exit_code == 2
    assert "Google does not allow the mail scope with the device grant" in result.stderr
    custom = BASE.format(name="idp") + '[oauth2.idp]\nclient_id = "c"\nscopes = ["m"]\n'
    custom += 'authorize_url = "https://a.example/"\ntoken_url = "https://t.example/"\n'
    path.write_text(custom, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "login", "--device"])
    assert result.exit_code == 2 and "[oauth2.idp].device_url: not given" in result.stderr
    path.write_text(BASE.replace('oauth2 = "{name}"', 'password = "x"'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "login"])
    assert result.exit_code == 2 and "nothing to sign in to" in result.stderr
