"""Pipelined UID FETCH on the one IMAP connection, against a real Dovecot."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from decliner.mail.imap import pipeline
from decliner.mail.imap import scan as scan_module
from decliner.service import passes, wiring
from tests.testbed.dovecot import Dovecot
from tests.testbed.imap_inbox import corpus_config, invite, plain_mail, stored
from tests.testbed.proxy import Proxy
from tests.testbed.wait import wait_until

pytestmark = pytest.mark.servers

MESSAGES = 40
CHUNK = 5


def fill(dovecot: Dovecot, name: str) -> Any:
    """An account with MESSAGES messages, every seventh an invitation."""
    account = dovecot.new_account(name)
    messages = [
        invite(f"pipe{n}@acme", "20270110T140000Z") if n % 7 == 0 else plain_mail(n)
        for n in range(MESSAGES)
    ]
    with dovecot.imap(account) as client:
        client.multiappend("INBOX", messages)
    return account


def structure_fetches(proxy: Proxy) -> list[bytes]:
    return [line for line in proxy.lines if b" UID FETCH " in line and b"BODYSTRUCTURE" in line]


def test_a_first_scan_keeps_several_fetches_in_flight(
    tmp_path: Path, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While Dovecot's answer to the first BODYSTRUCTURE chunk is held back, the scanner has
    already sent the next chunks (so the server's work overlaps ours), on one connection,
    and the scan still reads every chunk once and finds every invitation."""
    monkeypatch.setattr(scan_module, "UID_CHUNK", CHUNK)
    account = fill(dovecot, "pipe")
    result: dict[str, Any] = {}
    with Proxy(dovecot.imap_port) as proxy:
        config = corpus_config(dovecot, account, tmp_path, imap_port=proxy.port)
        proxy.hold_replies_after_command = "UID FETCH"

        def scan() -> None:
            try:
                with wiring.open_store(config) as store:
                    result["report"] = passes.scan(config, store)
            except Exception as exc:  # noqa: BLE001 -- handed to the test's thread below
                result["error"] = exc

        worker = threading.Thread(target=scan)
        worker.start()
        try:
            wait_until(
                lambda: len(structure_fetches(proxy)) >= pipeline.DEPTH,
                f"{pipeline.DEPTH} BODYSTRUCTURE fetches sent before any answer",
            )
            assert len(structure_fetches(proxy)) == pipeline.DEPTH  # no more than DEPTH
        finally:
            proxy.resume()
            worker.join()
        if "error" in result:
            raise result["error"]
        assert proxy.commands.count("LOGIN") + proxy.commands.count("AUTHENTICATE") == 1
    report = result["report"]
    assert report.new_messages == MESSAGES
    assert report.invites == len(range(0, MESSAGES, 7))
    assert {uid for uid, _ in stored(config)} == {f"pipe{n}@acme" for n in range(0, MESSAGES, 7)}
    fetched = [line.split(b" ")[3] for line in structure_fetches(proxy)]
    assert len(fetched) == MESSAGES // CHUNK
    uids = [int(u) for ids in fetched for u in ids.split(b",")]
    assert sorted(uids) == list(range(1, MESSAGES + 1))  # every UID once


def test_a_stopped_pipeline_leaves_the_connection_in_step(dovecot: Dovecot) -> None:
    """A caller that stops after the first chunk (an error while recording it) leaves no
    answer unread: the next command on the connection gets its own answer, not a stale one."""
    account = fill(dovecot, "drain")
    with dovecot.imap(account) as client:
        client.select_folder("INBOX", readonly=True)
        chunks = [list(range(start, start + CHUNK)) for start in range(1, MESSAGES + 1, CHUNK)]
        fetches = pipeline.fetch_chunks(client, chunks, ["FLAGS", "BODYSTRUCTURE"])
        first, answer = next(fetches)
        assert first == chunks[0] and sorted(answer) == chunks[0]
        fetches.close()  # three commands were still in flight
        after = client.fetch([MESSAGES], ["RFC822.SIZE"])
        assert list(after) == [MESSAGES] and set(after[MESSAGES]) == {b"RFC822.SIZE", b"SEQ"}
        assert client.noop()[0] is not None


def test_results_come_back_by_uid_and_unsolicited_ones_are_dropped(dovecot: Dovecot) -> None:
    """Each chunk gets exactly its own UIDs' items, in chunk order; a UID the server does not
    have is simply absent, as with imapclient's fetch."""
    account = fill(dovecot, "byuid")
    with dovecot.imap(account) as client:
        client.select_folder("INBOX", readonly=True)
        chunks = [[1, 2, 3], [4, 999], [5], [6, 7], [8, 9, 10], [11]]
        seen = list(pipeline.fetch_chunks(client, chunks, ["FLAGS"]))
    assert [chunk for chunk, _ in seen] == chunks
    assert [sorted(answer) for _, answer in seen] == [[1, 2, 3], [4], [5], [6, 7], [8, 9, 10], [11]]
    assert all(b"FLAGS" in item for _, answer in seen for item in answer.values())
