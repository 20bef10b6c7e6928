"""Secret sources: each fetched lazily, failures named without the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from decliner import config as cfg
from decliner.config.credentials import imap_credential, smtp_credential
from decliner.errors import SecretError

CANARY = "CANARY-secret-51d2"

BASE = """
[account]
name = "Jane Doe"
email = "jane@example.com"
[imap]
host = "imap.example.com"
{imap}
[smtp]
host = "smtp.example.com"
{smtp}
"""


def load(tmp_path: Path, imap: str, smtp: str = "") -> cfg.Config:
    path = tmp_path / "config.toml"
    path.write_text(BASE.format(imap=imap, smtp=smtp), encoding="utf-8")
    return cfg.load(path)


def test_literal_password(tmp_path: Path) -> None:
    """A literal password is used as is, with account.email as the user name."""
    cred = imap_credential(load(tmp_path, f'password = "{CANARY}"'), env={})
    assert (cred.username, cred.secret, cred.mechanism) == ("jane@example.com", CANARY, "password")
    assert CANARY not in repr(cred)


def test_env_variable(tmp_path: Path) -> None:
    """password_env reads the named variable; a missing one is named, not guessed."""
    config = load(tmp_path, 'password_env = "IMAP_PW"\nusername = "jd"')
    assert imap_credential(config, env={"IMAP_PW": CANARY}).secret == CANARY
    assert imap_credential(config, env={"IMAP_PW": CANARY}).username == "jd"
    with pytest.raises(SecretError, match=r"\[imap\]\.password_env: environment variable IMAP_PW"):
        imap_credential(config, env={})


def test_file_prefers_credentials_directory(tmp_path: Path) -> None:
    """A relative password_file is looked up in $CREDENTIALS_DIRECTORY first, then beside the config."""
    (tmp_path / "pw").write_text("beside-config\n", encoding="utf-8")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "pw").write_text(f"{CANARY}\nsecond line ignored\n", encoding="utf-8")
    config = load(tmp_path, 'password_file = "pw"')
    assert imap_credential(config, env={"CREDENTIALS_DIRECTORY": str(creds)}).secret == CANARY
    assert imap_credential(config, env={}).secret == "beside-config"


def test_missing_or_empty_file(tmp_path: Path) -> None:
    """A missing or empty secret file is a clear error naming the key and path."""
    config = load(tmp_path, 'password_file = "nope"')
    with pytest.raises(SecretError, match=r"\[imap\]\.password_file: no such file"):
        imap_credential(config, env={})
    (tmp_path / "nope").write_text("\n", encoding="utf-8")
    with pytest.raises(SecretError, match="is empty"):
        imap_credential(config, env={})


def test_command_first_line(tmp_path: Path) -> None:
    """password_command's first stdout line is the secret."""
    config = load(tmp_path, f"password_command = \"printf '{CANARY}\\\\nother'\"")
    assert imap_credential(config, env={}).secret == CANARY


def test_failing_command_names_command_not_output(tmp_path: Path) -> None:
    """A failing command is reported by its text and status; its output never shows."""
    config = load(tmp_path, f'password_command = "echo {CANARY}; echo {CANARY} >&2; exit 3"')
    with pytest.raises(SecretError) as info:
        imap_credential(config, env={})
    message = str(info.value)
    assert "exit status 3" in message
    assert message.count(CANARY) == 2  # only inside the quoted command text itself
    config = load(tmp_path, 'password_command = "echo $SECRET_OUT; false"')
    with pytest.raises(SecretError) as info:
        imap_credential(config, env={"SECRET_OUT": CANARY})
    assert CANARY not in str(info.value)


def test_command_printing_nothing(tmp_path: Path) -> None:
    """A command that prints nothing is an error, not an empty password."""
    config = load(tmp_path, 'password_command = "true"')
    with pytest.raises(SecretError, match="printed nothing"):
        imap_credential(config, env={})


def test_oauth2_token_command(tmp_path: Path) -> None:
    """oauth2_token_command yields an XOAUTH2 credential."""
    config = load(tmp_path, f'oauth2_token_command = "echo {CANARY}"')
    cred = imap_credential(config, env={})
    assert (cred.secret, cred.mechanism) == (CANARY, "xoauth2")


def test_smtp_reuses_imap_secret_and_user(tmp_path: Path) -> None:
    """With no SMTP secret, SMTP logs in with the IMAP user and secret."""
    config = load(tmp_path, f'password = "{CANARY}"\nusername = "imap-user"')
    cred = smtp_credential(config, env={})
    assert (cred.username, cred.secret) == ("imap-user", CANARY)


def test_smtp_own_secret(tmp_path: Path) -> None:
    """An SMTP secret source and username override the IMAP ones."""
    config = load(tmp_path, 'password = "imap"', 'username = "smtp-user"\npassword_env = "SMTP_PW"')
    cred = smtp_credential(config, env={"SMTP_PW": CANARY})
    assert (cred.username, cred.secret) == ("smtp-user", CANARY)
