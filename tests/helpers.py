"""Shared test helpers: configs pointing at the test bed, and corpus access."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from decliner import config as cfg
from tests.testbed.dovecot import Account, Dovecot

CORPUS = Path(__file__).parent / "corpus" / "invites"


def corpus_files() -> list[Path]:
    """The corpus messages in file-name order (later files update earlier ones)."""
    return sorted(CORPUS.glob("*.eml"))


def corpus_expectations() -> list[dict[str, Any]]:
    """expected.toml's [[message]] tables."""
    return list(tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))["message"])


def config_text(
    dovecot: Dovecot,
    account: Account,
    tmp_path: Path,
    *,
    me: str | None = None,
    aliases: tuple[str, ...] = (),
    imap_port: int | None = None,
    smtp_port: int = 25,
    extra: str = "",
    imap_extra: str = "",
    imap_timeout: str = "10s",
) -> str:
    """A plain-TCP config for the test bed; `me` overrides the account's own address."""
    alias_list = ", ".join(f'"{a}"' for a in aliases)
    return f"""
[account]
name = "Jane Doe"
email = "{me or account.address}"
aliases = [{alias_list}]
timezone = "Europe/Berlin"

[imap]
host = "127.0.0.1"
port = {imap_port or dovecot.imap_port}
security = "plain"
username = "{account.address}"
password = "{account.password}"
timeout = "{imap_timeout}"
{imap_extra}

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
timeout = "10s"

[state]
path = "{tmp_path / "state.db"}"
{extra}
"""


def load_config(text: str, tmp_path: Path) -> cfg.Config:
    """Write `text` as config.toml in tmp_path and load it."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return cfg.load(path)
