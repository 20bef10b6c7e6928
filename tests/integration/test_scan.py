"""The incremental IMAP scan against a real Dovecot: what is read, and how little."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from decliner.cli.main import cli
from decliner.config import Config
from decliner.mail import imap
from decliner.mail.imap.scan import Scanner
from decliner.service import listing, passes, wiring
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import (
    CORPUS,
    assert_corpus_events,
    corpus_expectations,
    corpus_files,
    corpus_rejected_files,
)
from tests.testbed.imap_inbox import NOW, corpus_config, invite, plain_mail, stored
from tests.testbed.proxy import Proxy
from tests.testbed.wait import wait_until

pytestmark = pytest.mark.servers


def test_corpus_through_imap(
    tmp_path: Path, dovecot: Dovecot, account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """Every corpus message read over IMAP lands as expected: updates win, cancels mark, junk warns."""
    uids = {
        path.name: dovecot.append(account, "INBOX", path.read_bytes()) for path in corpus_files()
    }
    config = corpus_config(dovecot, account, tmp_path)
    with wiring.open_store(config) as store, caplog.at_level(logging.WARNING):
        report = passes.scan(config, store)
    assert report.new_messages == len(uids)

    for name in corpus_rejected_files():
        assert any(
            f"folder INBOX UID {uids[name]}: skipped" in r.getMessage() for r in caplog.records
        ), name
    assert_corpus_events(stored(config))


def test_incremental_pass_reads_only_new_messages(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """A second pass reads only new UIDs, and fetches only calendar parts, never whole messages."""
    dovecot.append(account, "INBOX", invite("a@acme", "20270110T140000Z"))
    with Proxy(dovecot.imap_port) as proxy:
        config = corpus_config(dovecot, account, tmp_path, imap_port=proxy.port)
        with wiring.open_store(config) as store:
            passes.scan(config, store)
            dovecot.append(account, "INBOX", invite("b@acme", "20270111T140000Z"))
            proxy.reset()
            report = passes.scan(config, store)
    assert report.new_messages == 1
    assert set(stored(config)) == {("a@acme", ""), ("b@acme", "")}
    fetches = [line.split(b" ", 3)[3] for line in proxy.lines if b" UID FETCH " in line]
    # nothing sent yet, so no message can be a reply: no header of a non-calendar message
    assert b"2 (BODYSTRUCTURE)" in fetches, fetches
    assert any(f.startswith(b"2 (FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID") for f in fetches)
    assert b"2 (BODY.PEEK[1])" in fetches  # the calendar part only: this invite is one part
    assert all(b"BODY.PEEK[]" not in f and b"RFC822" not in f for f in fetches)
    assert not any(
        f.startswith(b"1 (") and b"BODY" in f for f in fetches
    )  # the old UID is not re-read


def test_quiet_pass_costs_the_same_for_200_and_5000_messages(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    """An unchanged mailbox costs a constant number of IMAP commands, whatever its size;
    the first scan of 5,000 messages downloads no body part but the invites' calendars; and
    the daemon's quiet poll over its kept connection is one EXAMINE per folder, under 1 KB
    each way, the same at 5,000 as at 200 (counts, not time: issue 16's regression guard)."""
    counts = []
    polls = []
    for size in (200, 5000):
        account = dovecot.new_account("bulk")
        messages = [
            invite(f"bulk{n}@acme", "20270110T140000Z") if n % 50 == 0 else plain_mail(n)
            for n in range(size)
        ]
        with dovecot.imap(account) as client:
            for start in range(0, size, 500):
                client.multiappend("INBOX", messages[start : start + 500])
        workdir = tmp_path / str(size)
        workdir.mkdir()
        with Proxy(dovecot.imap_port) as proxy:
            config = corpus_config(dovecot, account, workdir, imap_port=proxy.port)
            with wiring.open_store(config) as store:
                first = passes.scan(config, store)
                assert first.new_messages == size
                assert first.invites == size // 50
                invite_uids = {str(n + 1).encode() for n in range(0, size, 50)}
                for line in proxy.lines:
                    if b"BODY.PEEK[" in line and b"HEADER.FIELDS" not in line:
                        fetched = line.split(b" ", 3)[3].split(b" ", 1)[0]
                        assert set(fetched.split(b",")) <= invite_uids, line[:200]
                proxy.reset()
                passes.scan(config, store)
                counts.append(list(proxy.commands))
                with imap.session(config) as client:
                    scanner = Scanner(config, store, now=wiring.utcnow)
                    proxy.reset()
                    scanner.scan(client)
                    polls.append((list(proxy.commands), proxy.bytes_up, proxy.bytes_down))
    assert counts[0] == counts[1]
    assert polls[0][0] == polls[1][0] == ["EXAMINE", "EXAMINE"]  # INBOX and the flag folder
    assert all(up < 1024 and down < 1024 for _, up, down in polls), polls
    assert len(counts[0]) <= 6, counts[0]
    assert "UID FETCH" not in counts[0]


def test_sequence_update_and_cancel(tmp_path: Path, dovecot: Dovecot, account: Account) -> None:
    """A higher SEQUENCE moves the event; a stale lower one does not; CANCEL marks it."""
    config = corpus_config(dovecot, account, tmp_path)
    dovecot.append(account, "INBOX", invite("s@acme", "20270110T140000Z", seq=1))
    with wiring.open_store(config) as store:
        passes.scan(config, store)
        dovecot.append(account, "INBOX", invite("s@acme", "20270112T090000Z", seq=2))
        dovecot.append(account, "INBOX", invite("s@acme", "20270101T090000Z", seq=0))
        passes.scan(config, store)
        record = stored(config)[("s@acme", "")]
        assert record.start == datetime(2027, 1, 12, 9, tzinfo=UTC)
        assert record.sequence == 2
        assert not record.cancelled_by_organizer
        dovecot.append(
            account, "INBOX", invite("s@acme", "20270112T090000Z", seq=2, method="CANCEL")
        )
        passes.scan(config, store)
        views = listing.invites(config, store, NOW, include_past=True)
        assert listing.invites(config, store, NOW, include_past=False) == []
    assert [v.status for v in views] == ["cancelled_by_organizer"]


def test_uidvalidity_change_rescans_without_duplicates(
    tmp_path: Path, dovecot: Dovecot, account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder re-created with a new UIDVALIDITY is read again, and no event is duplicated."""
    with dovecot.imap(account) as client:
        client.create_folder("Interviews")
    dovecot.append(account, "Interviews", invite("v@acme", "20270110T140000Z"))
    config = corpus_config(
        dovecot, account, tmp_path, imap_extra='folders = ["INBOX", "Interviews"]'
    )
    with wiring.open_store(config) as store:
        passes.scan(config, store)
        with dovecot.imap(account) as client:
            old = client.folder_status("Interviews", ["UIDVALIDITY"])[b"UIDVALIDITY"]

            def recreated() -> bool:
                client.delete_folder("Interviews")
                client.create_folder("Interviews")
                return bool(
                    client.folder_status("Interviews", ["UIDVALIDITY"])[b"UIDVALIDITY"] != old
                )

            # Dovecot derives UIDVALIDITY from the clock: re-create until it differs.
            wait_until(recreated, "a new UIDVALIDITY")
        dovecot.append(account, "Interviews", invite("v@acme", "20270110T140000Z"))
        dovecot.append(account, "Interviews", invite("w@acme", "20270111T140000Z"))
        with caplog.at_level(logging.WARNING):
            report = passes.scan(config, store)
    assert "UIDVALIDITY changed" in caplog.text
    assert report.new_messages == 2
    assert sorted(stored(config)) == [("v@acme", ""), ("w@acme", "")]


def test_keyword_and_flag_folder_show_in_invites(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """Setting the keyword or copying an invite to the flag folder shows as flagged_by; removal clears it."""
    config = corpus_config(dovecot, account, tmp_path)
    uid_k = dovecot.append(account, "INBOX", invite("k@acme", "20270110T140000Z"))
    dovecot.append(account, "INBOX", invite("f@acme", "20270111T140000Z"))
    with wiring.open_store(config) as store:
        passes.scan(config, store)
        dovecot.set_keyword(account, "INBOX", uid_k, "Decline")
        copy_uid = dovecot.append(account, "Decline", invite("f@acme", "20270111T140000Z"))
        passes.scan(config, store)
        by_uid = {v.event.uid: v for v in listing.invites(config, store, NOW, include_past=False)}
        assert (by_uid["k@acme"].flagged_by, by_uid["k@acme"].status) == ("keyword", "flagged")
        assert (by_uid["f@acme"].flagged_by, by_uid["f@acme"].status) == ("folder", "flagged")
        with dovecot.imap(account) as client:
            client.select_folder("INBOX")
            client.remove_flags([uid_k], ["Decline"])
            client.select_folder("Decline")
            client.delete_messages([copy_uid])
            client.expunge()
        passes.scan(config, store)
        flags = {
            v.event.uid: v.flagged_by
            for v in listing.invites(config, store, NOW, include_past=False)
        }
    assert flags == {"k@acme": None, "f@acme": None}


def test_invites_json_cli(tmp_path: Path, dovecot: Dovecot, account: Account) -> None:
    """`invites --json` scans, then prints SPEC's fields with offsets in the account zone."""
    dovecot.append(
        account, "INBOX", invite("j@acme", "20270110T140000Z", subject="Interview with Acme")
    )
    dovecot.append(account, "INBOX", invite("old@acme", "20250110T140000Z"))
    config = corpus_config(dovecot, account, tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config.source), "invites", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["uid"] for r in rows] == ["j@acme"]
    row = rows[0]
    assert row["start"] == "2027-01-10T15:00:00+01:00"
    assert row["end"] == "2027-01-10T16:00:00+01:00"
    assert row["recurrence_id"] is None
    assert (row["organizer"], row["recipient"], row["folder"]) == (
        "sam@acme.example",
        "sam@acme.example",
        "INBOX",
    )
    assert (row["status"], row["flagged_by"], row["looks_like_interview"]) == (
        "upcoming",
        None,
        True,
    )
    assert len(row["id"]) == 12
    everything = CliRunner().invoke(
        cli, ["--config", str(config.source), "invites", "--all", "--json", "--cached"]
    )
    assert {r["status"] for r in json.loads(everything.stdout)} == {"upcoming", "past"}
    table = CliRunner(env={"COLUMNS": "120"}).invoke(
        cli, ["--config", str(config.source), "invites", "--cached"]
    )
    assert "Interview with Acme" in table.stdout
    assert row["id"][:6] in table.stdout


def test_an_invite_moved_to_another_folder_is_followed(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """MOVE an invite from INBOX into the flag folder: the event now points at the moved copy."""
    uid = dovecot.append(account, "INBOX", invite("mv@acme", "20270110T140000Z"))
    config = corpus_config(dovecot, account, tmp_path)
    with wiring.open_store(config) as store:
        passes.scan(config, store)
        assert stored(config)[("mv@acme", "")].invite.folder == "INBOX"
        with dovecot.imap(account) as client:
            client.select_folder("INBOX")
            client.move([uid], "Decline")
        passes.scan(config, store)
        [view] = listing.invites(config, store, NOW, include_past=False)
    record = stored(config)[("mv@acme", "")]
    assert (record.invite.folder, view.flagged_by) == ("Decline", "folder")


def test_upcoming_count_agrees_with_invites(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """The daemon's cheap status count equals what `invites` lists without --all."""
    from decliner.store.events import upcoming_count

    dovecot.append(account, "INBOX", invite("c1@acme", "20270110T140000Z"))
    dovecot.append(account, "INBOX", invite("c2@acme", "20250110T140000Z"))
    dovecot.append(account, "INBOX", invite("c3@acme", "20270111T140000Z"))
    dovecot.append(account, "INBOX", invite("c3@acme", "20270111T140000Z", seq=1, method="CANCEL"))
    config = corpus_config(dovecot, account, tmp_path)
    with wiring.open_store(config) as store:
        passes.scan(config, store)
        listed = listing.invites(config, store, NOW, include_past=False)
        assert upcoming_count(store.connection, NOW) == len(listed) == 1


def test_cancelling_a_series_cancels_its_instances(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """A METHOD:CANCEL without RECURRENCE-ID cancels the series and every stored instance of it."""
    series = (CORPUS / "29-series-with-override-same-calendar.eml").read_bytes()
    dovecot.append(account, "INBOX", series)
    uid = next(c for c in corpus_expectations() if c["file"].startswith("29-"))["event"][0]["uid"]
    config = corpus_config(dovecot, account, tmp_path)
    with wiring.open_store(config) as store:
        passes.scan(config, store)
        assert len(stored(config)) == 2 and not any(
            e.cancelled_by_organizer for e in stored(config).values()
        )
        dovecot.append(account, "INBOX", invite(uid, "20270107T170000Z", method="CANCEL"))
        passes.scan(config, store)
    records = stored(config)
    assert len(records) == 2
    assert all(record.cancelled_by_organizer for record in records.values())


def _invites_json(config: Config) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(cli, ["--config", str(config.source), "invites", "--json"])
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_invites_with_the_server_down_shows_the_state_db(
    tmp_path: Path, own_dovecot: Dovecot, dovecot: Dovecot
) -> None:
    """The server stopped: `invites` warns once on stderr with the last sync and the reason,
    lists what it knew, and exits 0; once the server is back it reads new mail again."""
    account = own_dovecot.add_account(dovecot.new_account("down"))
    own_dovecot.append(account, "INBOX", invite("up@acme", "20270110T140000Z"))
    config = corpus_config(own_dovecot, account, tmp_path)
    code, rows, stderr = _invites_json(config)
    assert (code, [r["uid"] for r in rows], stderr) == (0, ["up@acme"], "")
    with wiring.open_store(config) as store:
        synced = store.last_sync()
    assert synced is not None
    own_dovecot.stop()
    code, rows, stderr = _invites_json(config)
    assert (code, [r["uid"] for r in rows]) == (0, ["up@acme"])
    [line] = stderr.splitlines()
    when = synced.astimezone(config.account.zone).strftime("%Y-%m-%d %H:%M")
    assert line.startswith(f"decliner: showing what was known at {when}: ")
    assert "127.0.0.1" in line and account.password not in line
    logged = CliRunner().invoke(cli, ["--config", str(config.source), "log", "--json"])
    assert (logged.exit_code, json.loads(logged.stdout), logged.stderr) == (0, [], "")
    own_dovecot.start()
    own_dovecot.append(account, "INBOX", invite("new@acme", "20270111T140000Z"))
    code, rows, stderr = _invites_json(config)
    assert (code, sorted(str(r["uid"]) for r in rows), stderr) == (0, ["new@acme", "up@acme"], "")


@pytest.mark.parametrize("problem", ["secret", "login"])
def test_invites_without_a_secret_or_login_shows_the_state_db(
    tmp_path: Path, dovecot: Dovecot, account: Account, problem: str
) -> None:
    """A `password_env` not set in this shell, or a refused login: a one-line warning naming
    the cause, the cached listing, exit 0. A config error still exits 2."""
    dovecot.append(account, "INBOX", invite("known@acme", "20270110T140000Z"))
    config = corpus_config(dovecot, account, tmp_path)
    assert _invites_json(config)[0] == 0
    text = config.source.read_text(encoding="utf-8")
    broken = (
        f'password = "{account.password}"',
        'password_env = "DECLINER_TEST_NOT_SET"' if problem == "secret" else 'password = "wrong"',
    )
    config.source.write_text(text.replace(*broken), encoding="utf-8")
    code, rows, stderr = _invites_json(config)
    assert (code, [r["uid"] for r in rows]) == (0, ["known@acme"])
    [line] = stderr.splitlines()
    assert line.startswith("decliner: showing what was known at ")
    assert ("DECLINER_TEST_NOT_SET" if problem == "secret" else "refused") in line
    config.source.write_text(text.replace("[imap]", "[imap]\nbogus = 1"), encoding="utf-8")
    assert CliRunner().invoke(cli, ["--config", str(config.source), "invites"]).exit_code == 2
