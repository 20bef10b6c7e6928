"""Calendars too large to read are skipped with a warning, never silently (SPEC 10), and
`check` repeats the warning for as long as the message is in the mailbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from decliner.core.parse.model import MAX_CALENDAR_BYTES
from decliner.core.parse.vcalendar import MAX_COMPONENTS, over_limits
from tests.testbed.big_mail import MIB, calendar, cli_run, mail
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.imap_inbox import ME, corpus_config
from tests.testbed.imap_inbox import invite as imap_invite
from tests.testbed.maildir_tree import Tree
from tests.testbed.maildir_tree import invite as maildir_invite


def test_limits_are_checked_before_parsing() -> None:
    """The byte and component limits, each with the number and the limit in the warning."""
    assert over_limits(calendar("ok", events=3)) is None
    big = over_limits(calendar("big", pad=MAX_CALENDAR_BYTES + 100))
    assert big is not None and big.reason == "too-large" and "over the 4 MiB limit" in big.detail
    many = over_limits(calendar("many", events=MAX_COMPONENTS))
    assert many is not None and f"{MAX_COMPONENTS + 1} components" in many.detail
    assert f"limit of {MAX_COMPONENTS}" in many.detail
    assert over_limits(calendar("edge", events=MAX_COMPONENTS - 1)) is None


def warnings_of(check: Result) -> list[str]:
    """`check`'s warnings about skipped messages (not, say, the config file's mode)."""
    return [line for line in check.output.splitlines() if "warning:" in line and "skipped" in line]


def test_imap_skips_are_reported_and_repeated_by_check_until_deleted(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """A 5 MiB calendar part (fetched, then refused), a 7 MiB base64 attachment (not even
    fetched) and a calendar of 600 components: each is a WARNING naming folder, UID and the
    limit, a `skipped` line of `run --once`, and a `check` warning until it is deleted; the
    good invitation beside them is read."""
    uids = {
        "big": dovecot.append(account, "INBOX", mail("big", calendar("big", pad=5 * MIB))),
        "huge": dovecot.append(
            account, "INBOX", mail("huge", calendar("huge", pad=7 * MIB), attach=True)
        ),
        "many": dovecot.append(account, "INBOX", mail("many", calendar("many", events=600))),
    }
    dovecot.append(account, "INBOX", imap_invite("fine@acme", "20270110T140000Z"))
    path = corpus_config(dovecot, account, tmp_path).source
    first = cli_run(path, "run", "--once")
    assert first.exit_code == 0, first.output
    for uid in uids.values():
        line = f"folder INBOX UID {uid}: skipped an unreadable invitation (too-large: "
        assert f"skipped {line}" in first.stdout
        assert f"WARNING {line}" in first.stderr
    assert "over the 4 MiB limit" in first.stdout and "limit of 500" in first.stdout
    assert '"uid": "fine@acme"' in cli_run(path, "invites", "--json", "--cached").stdout
    check = cli_run(path, "check", "--offline")
    assert check.exit_code == 0
    assert [w.split("warning: ")[1].split(":")[0] for w in warnings_of(check)] == [
        f"folder INBOX UID {uid}" for uid in sorted(uids.values())
    ]
    again = cli_run(path, "run", "--once")
    assert "WARNING" not in again.stderr and "skipped" not in again.stdout  # said once
    with dovecot.imap(account) as client:
        client.select_folder("INBOX")
        client.delete_messages([uids["big"], uids["many"]])
        client.expunge()
    cli_run(path, "run", "--once")
    left = warnings_of(cli_run(path, "check", "--offline"))
    assert len(left) == 1 and f"UID {uids['huge']}:" in left[0]


def test_maildir_skips_are_reported_and_repeated_by_check_until_deleted(tmp_path: Path) -> None:
    """The same on a Maildir tree, where the file's key names the message."""
    tree = Tree(tmp_path)
    path = tree.config().source
    big = tree.add(mail("big", calendar("big", pad=5 * MIB)))
    tree.add(maildir_invite("fine@g")[0])
    first = cli_run(path, "run", "--once")
    assert first.exit_code == 0, first.output
    assert f"folder INBOX key {big}: skipped an unreadable invitation (too-large" in first.stdout
    assert "over the 4 MiB limit" in first.stderr
    [warning] = warnings_of(cli_run(path, "check", "--offline"))
    assert f"key {big}:" in warning
    tree.file("INBOX", big).unlink()
    cli_run(path, "run", "--once")
    assert warnings_of(cli_run(path, "check", "--offline")) == []


@pytest.mark.parametrize("events", [MAX_COMPONENTS + 1])
def test_parse_refuses_too_many_components(events: int) -> None:
    """parse_message returns the typed rejection, not a half-read invitation."""
    from zoneinfo import ZoneInfo

    from decliner.core.parse.invites import parse_message

    result = parse_message(
        mail("m", calendar("m", events=events)), me=[ME], default_tz=ZoneInfo("UTC")
    )
    assert result is not None and not hasattr(result, "events")
    assert getattr(result, "reason", "") == "too-large"
