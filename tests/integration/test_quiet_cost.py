"""A quiet pass costs the same whatever the mailbox holds (issue 28): counted in SQLite's
own steps and statements and in IMAP commands and bytes, at two sizes, never timed."""

from __future__ import annotations

from pathlib import Path

import pytest

from decliner.service import passes, wiring
from tests.testbed.dovecot import Dovecot
from tests.testbed.imap_inbox import corpus_config, invite, plain_mail
from tests.testbed.lazy_imports import loaded_by_a_pass
from tests.testbed.proxy import Proxy

pytestmark = pytest.mark.servers


def _quiet_pass_cost(dovecot: Dovecot, workdir: Path, invites: int) -> tuple[int, ...]:
    """A mailbox with `invites` invitations (one flagged, waiting out its grace) and as many
    other messages; after a first pass, what one more `run --once` costs: SQLite VM steps,
    SQL statements, IMAP commands, bytes from the server, outbox rows."""
    account = dovecot.new_account("quiet")
    messages = [invite(f"q{n}@acme", "20270110T140000Z") for n in range(invites)]
    messages += [plain_mail(n) for n in range(invites)]
    with dovecot.imap(account) as client:
        for start in range(0, len(messages), 500):
            client.multiappend("INBOX", messages[start : start + 500])
    dovecot.set_keyword(account, "INBOX", 1, "Decline")
    workdir.mkdir()
    with Proxy(dovecot.imap_port) as proxy:
        # scope "interview": while a process letter's grace runs, a pass also reads the
        # upcoming invitations it may name (SPEC 18); this guard is about known messages.
        scope = '\n[withdrawal]\nscope = "interview"\n'
        config = corpus_config(dovecot, account, workdir, imap_port=proxy.port, extra=scope)
        with wiring.open_store(config) as store:
            first = passes.run_once(config, store)
            assert first.scan is not None
            assert (first.scan.invites, first.failed) == (invites, [])
            steps: list[int] = [0]
            statements: list[str] = []

            def step() -> int:
                steps[0] += 1
                return 0

            store.connection.set_progress_handler(step, 1)
            store.connection.set_trace_callback(statements.append)
            proxy.reset()
            quiet = passes.run_once(config, store)
            store.connection.set_progress_handler(None, 1)
            store.connection.set_trace_callback(None)
            assert quiet.scan is not None and quiet.scan.new_messages == 0
            rows = store.connection.execute("SELECT count(*) FROM outbox").fetchone()[0]
        return steps[0], len(statements), len(proxy.commands), proxy.bytes_down, rows


def test_a_quiet_pass_reads_nothing_per_known_message(tmp_path: Path, dovecot: Dovecot) -> None:
    """With 20 and with 200 known invitations (one flagged, its withdrawal scheduled), a
    quiet `run --once` executes the same SQLite steps and statements, and the same IMAP
    commands for the same bytes but a few digits of the counts in the EXAMINE answer."""
    small = _quiet_pass_cost(dovecot, tmp_path / "small", 20)
    big = _quiet_pass_cost(dovecot, tmp_path / "big", 200)
    assert small[4] == big[4] == 1  # the flagged invitation's withdrawal, waiting
    assert big[:3] == small[:3], (small, big)
    assert small[3] <= big[3] <= small[3] + 16, (small, big)


def test_a_quiet_imap_pass_loads_no_smtp_client_or_terminal_renderer(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    """Over IMAP with SMTP configured, a quiet `run --once` (the first pass read an
    invitation) imports neither the SMTP client and its event loop (loaded only to send) nor
    rich (its one line goes to a pipe), nor any of the other heavy machinery."""
    account = dovecot.new_account("lazy")
    dovecot.append(account, "INBOX", invite("lazy@acme", "20270110T140000Z"))
    config = corpus_config(dovecot, account, tmp_path)
    assert "icalendar" in loaded_by_a_pass(config.source)
    assert loaded_by_a_pass(config.source) == []
