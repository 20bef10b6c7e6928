"""Shared test helpers: configs pointing at the test bed, corpus access, and what an account sent."""

from __future__ import annotations

import email
import email.policy
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from decliner import config as cfg
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.smtpd import SmtpServers

CORPUS = Path(__file__).parent.parent / "corpus" / "invites"


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
    smtp_timeout: str = "10s",
    account_extra: str = "",
) -> str:
    """A plain-TCP config for the test bed; `me` overrides the account's own address."""
    alias_list = ", ".join(f'"{a}"' for a in aliases)
    return f"""
[account]
name = "Jane Doe"
email = "{me or account.address}"
aliases = [{alias_list}]
timezone = "Europe/Berlin"
{account_extra}

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
timeout = "{smtp_timeout}"

[state]
path = "{tmp_path / "state.db"}"
{extra}
"""


def followup_at_any_time(delay: str = "1d") -> str:
    """A [followup] due `delay` after the withdrawal, at any hour of any day: the tests start
    from the real clock, and on a Friday night a day's delay would move to Monday."""
    return (
        f'\n[followup]\ndelay = "{delay}"\nbusiness_hours = ""\n'
        'business_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
    )


def load_config(text: str, tmp_path: Path) -> cfg.Config:
    """Write `text` as config.toml in tmp_path and load it."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return cfg.load(path)


def corpus_rejected_files() -> list[str]:
    """The corpus files a parser must skip with a warning."""
    return [case["file"] for case in corpus_expectations() if case["rejected"]]


def corpus_final_events() -> tuple[dict[tuple[str, str], dict[str, Any]], set[tuple[str, str]]]:
    """What the whole corpus, read in file order, must leave: (uid, recurrence id) -> the
    winning expected event (highest SEQUENCE), and the keys a CANCEL marked."""
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    cancelled: set[tuple[str, str]] = set()
    for case in corpus_expectations():
        if case["rejected"]:
            continue
        for event in case.get("event", []):
            key = (event["uid"], _stored_rid(event["recurrence_id_utc"]))
            if case["method"] == "CANCEL":
                cancelled.add(key)
                expected.setdefault(key, event)
            elif case["invite"] and (
                key not in expected or event["sequence"] >= expected[key]["sequence"]
            ):
                expected[key] = event
    return expected, cancelled


def assert_corpus_events(found: Mapping[tuple[str, str], Any]) -> None:
    """The stored events (by uid, recurrence id) are exactly what the corpus must leave."""
    expected, cancelled = corpus_final_events()
    assert set(found) == set(expected)
    for key, event in expected.items():
        record = found[key]
        assert record.cancelled_by_organizer == (key in cancelled), key
        if event["all_day"]:
            assert record.all_day
            continue
        assert record.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == event["start_utc"], (
            key
        )
        assert record.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == event["end_utc"], key
        assert record.summary == event["summary"] or key in cancelled


def _stored_rid(value: str) -> str:
    """expected.toml's RECURRENCE-ID as the state db keys it ('' / a date / ISO UTC)."""
    if not value or len(value) == 10:
        return value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).isoformat()


def sent_by(smtp: SmtpServers, account: Account) -> list[bytes]:
    return [m.data for m in smtp.plain.messages if m.mail_from == account.address]


def plain_text(raw: bytes) -> str:
    """A message's text/plain body decoded, with its line wrapping undone: what a sentence
    says, wherever the letter happened to wrap it."""
    return flat_body(email.message_from_bytes(raw, policy=email.policy.default))


def flat_body(message: EmailMessage) -> str:
    """A parsed message's text/plain body with its line wrapping undone."""
    body = message.get_body(("plain",))
    assert isinstance(body, EmailMessage), "no text/plain body"
    return " ".join(body.get_content().split())
