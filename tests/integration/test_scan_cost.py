"""What a first scan costs at the wire, by count (issue 28): commands, FETCH items, bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient

from decliner.core.parse import bodystructure
from decliner.service import passes, wiring
from decliner.store import events as event_db
from decliner.store import outbox as outbox_db
from decliner.store import thread as thread_db
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.imap_inbox import ME, corpus_config, invite, plain_mail
from tests.testbed.proxy import Proxy

pytestmark = pytest.mark.servers

SIZE = 1000
EVERY = 50  # one invitation in fifty messages
HEADERS = "MESSAGE-ID SUBJECT FROM REPLY-TO DATE REFERENCES IN-REPLY-TO TO CC"


def _fill(client: IMAPClient, messages: list[bytes]) -> None:
    for start in range(0, len(messages), 500):
        client.multiappend("INBOX", messages[start : start + 500])


def _fetches(proxy: Proxy) -> list[tuple[set[int], bytes]]:
    """Each UID FETCH sent: its UIDs and its items."""
    found = []
    for line in proxy.lines:
        if b" UID FETCH " in line:
            uids, items = line.split(b" ", 3)[3].split(b" ", 1)
            found.append(({int(u) for u in uids.split(b",")}, items.strip()))
    return found


def _reference_bytes(port: int, account: Account, proxy: Proxy) -> int:
    """What the leanest client receives for the same answer: every BODYSTRUCTURE, then the
    header fields and calendar sections of the calendar messages only (logged in)."""
    with IMAPClient("127.0.0.1", port, ssl=False) as client:
        client.login(account.username, account.password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        proxy.reset()
        structures = client.fetch(uids, ["BODYSTRUCTURE"])
        calendars = {
            uid: parts
            for uid, data in structures.items()
            if (parts := bodystructure.calendar_parts(data[b"BODYSTRUCTURE"]))
        }
        sections = {p.section for parts in calendars.values() for p in parts}
        items = ["FLAGS", f"BODY.PEEK[HEADER.FIELDS ({HEADERS})]"]
        client.fetch(sorted(calendars), items + [f"BODY.PEEK[{s}]" for s in sorted(sections)])
        return proxy.bytes_down


def test_a_first_scan_reads_structures_then_only_the_calendar_messages(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """A first scan of 1,000 messages (20 invitations), nothing sent yet: one BODYSTRUCTURE
    fetch per 500 UIDs and nothing else of the other messages, then flags and headers of the
    calendar messages, then their calendar parts: a fixed list of commands, and at most 1.3×
    the bytes of the leanest client reading the same (measured in this test, same server)."""
    invites = {n + 1 for n in range(0, SIZE, EVERY)}
    with dovecot.imap(account) as client:
        _fill(
            client,
            [
                invite(f"cost{n}@acme", "20270110T140000Z") if n + 1 in invites else plain_mail(n)
                for n in range(SIZE)
            ],
        )
    with Proxy(dovecot.imap_port) as proxy:
        config = corpus_config(dovecot, account, tmp_path, imap_port=proxy.port)
        with wiring.open_store(config) as store:
            report = passes.scan(config, store)
        commands, received = list(proxy.commands), proxy.bytes_down
        fetches = _fetches(proxy)
        reference = _reference_bytes(proxy.port, account, proxy)
    assert (report.new_messages, report.invites) == (SIZE, len(invites))
    assert [c for c in commands if c not in {"CAPABILITY", "LOGIN", "ENABLE", "LOGOUT"}] == [
        "EXAMINE",
        "UID SEARCH",
        "UID FETCH",
        "UID FETCH",
        "UID FETCH",
        "UID FETCH",
        "EXAMINE",
    ], commands
    structures = [f for f in fetches if f[1] == b"(BODYSTRUCTURE)"]
    assert set().union(*(uids for uids, _ in structures)) == set(range(1, SIZE + 1))
    rest = [f for f in fetches if f not in structures]
    assert [items.split(b" ", 2)[:2] for _, items in rest] == [
        [b"(FLAGS", b"BODY.PEEK[HEADER.FIELDS"],
        [b"(BODY.PEEK[1])"],
    ]
    assert all(uids == invites for uids, _ in rest)
    assert received <= 1.3 * reference, (received, reference)


def test_once_mail_is_sent_only_possible_replies_cost_their_headers(
    tmp_path: Path, dovecot: Dovecot, account: Account
) -> None:
    """With a withdrawal in the outbox, every new message costs In-Reply-To and References
    besides its BODYSTRUCTURE; only the reply to it (and the new invitation) then cost their
    flags and header fields, and the reply is filed in the event's thread."""
    with dovecot.imap(account) as client:
        client.append("INBOX", invite("sent@acme", "20270110T140000Z"))
    with Proxy(dovecot.imap_port) as proxy:
        config = corpus_config(dovecot, account, tmp_path, imap_port=proxy.port)
        with wiring.open_store(config) as store:
            passes.scan(config, store)
            [event] = event_db.all_events(store.connection)
            now = datetime.now(UTC)
            with store.transaction() as conn:
                row = outbox_db.schedule(conn, event.id, "withdrawal", now, now)
                assert row is not None
                outbox_db.store_rendered(
                    conn,
                    row,
                    message_id="<ours.1@example.com>",
                    raw=b"Subject: withdrawal\r\n\r\nbody\r\n",
                    to=("sam@acme.example",),
                    cc=(),
                    subject="withdrawal",
                    in_reply_to="",
                    references=(),
                )
            reply = (
                b"From: Sam Recruiter <sam@acme.example>\r\nTo: " + ME.encode() + b"\r\n"
                b"Subject: Re: withdrawal\r\nMessage-ID: <answer.1@acme.example>\r\n"
                b"In-Reply-To: <ours.1@example.com>\r\nReferences: <ours.1@example.com>\r\n"
                b"\r\nThanks, all the best.\r\n"
            )
            with dovecot.imap(account) as client:
                _fill(client, [plain_mail(n) for n in range(300)])
                reply_uid = dovecot.append(account, "INBOX", reply)
                invite_uid = dovecot.append(
                    account, "INBOX", invite("new@acme", "20270111T140000Z")
                )
            proxy.reset()
            report = passes.scan(config, store)
            filed = thread_db.replies(store.connection, event.id)
    assert (report.new_messages, report.invites, report.replies) == (302, 1, 1)
    assert [r.message_id for r in filed] == ["<answer.1@acme.example>"]
    first, second, *_ = _fetches(proxy)
    assert first[1] == b"(BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO REFERENCES)])"
    assert len(first[0]) == 302
    assert second[0] == {reply_uid, invite_uid}
    assert second[1].startswith(b"(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID")
