"""One pass as a whole: reads never write (SPEC 16), and what a sent withdrawal costs."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest

from decliner.service import passes, wiring
from tests.testbed.world import Clock, World

pytestmark = pytest.mark.servers


def _db_content(world: World) -> list[str]:
    """The state db's logical content (schema and rows), to compare before and after."""
    conn = sqlite3.connect(world.tmp / "state.db")
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _db_bytes(world: World) -> tuple[bytes, bytes]:
    """The db file's and its WAL's bytes (a WAL not there reads as empty)."""
    wal = world.tmp / "state.db-wal"
    return (world.tmp / "state.db").read_bytes(), wal.read_bytes() if wal.exists() else b""


def test_reads_never_write(world: World) -> None:
    """SPEC 16: with a keyword flag seen by a scan but no pass yet, `invites --cached`, `log`,
    `preview` and `check --offline` show it flagged and leave the state db's bytes and WAL as
    they were; the grace period starts at the pass, not when someone looks."""
    world.invite("look@g")
    world.config(grace="5m")
    assert world.cli("invites").exit_code == 0  # reads new mail: this one may write
    before, raw = _db_content(world), _db_bytes(world)
    [row] = json.loads(world.cli("invites", "--json", "--cached").stdout)
    assert (row["status"], row["flagged_by"]) == ("flagged", "keyword")
    for args, code in (
        (("invites", "--cached"), 0),
        (("log",), 0),
        (("log", "--json"), 0),
        (("preview", row["id"]), 0),
        (("preview", row["id"], "--followup"), 2),  # not before the withdrawal is sent
        (("check", "--offline"), 0),
    ):
        assert world.cli(*args).exit_code == code, args
        assert _db_bytes(world) == raw, args
    assert _db_content(world) == before
    assert not any('INSERT INTO "flags"' in line for line in before)
    world.cli("run", "--once")
    assert any('INSERT INTO "flags"' in line for line in _db_content(world))


def _write_transactions(statements: list[str]) -> list[list[str]]:
    """The transactions among `statements` that changed something, each as its statements."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for statement in statements:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb == "BEGIN":
            current = []
        elif verb in ("COMMIT", "ROLLBACK") and current is not None:
            if verb == "COMMIT" and current:
                found.append(current)
            current = None
        elif (
            verb in ("INSERT", "UPDATE", "DELETE", "REPLACE")
            and current is not None
            and (not current or current[-1] != statement)  # SQLite may trace a statement twice
        ):
            current.append(statement)
    return found


def test_one_sent_withdrawal_costs_five_outbox_transactions(world: World) -> None:
    """The outbox protocol's five steps and no more: schedule, store, begin attempt, finish
    attempt (which also queues the follow-up), copied; flags are written in the first."""
    world.invite("tx@g")
    config = world.config()
    statements: list[str] = []
    with wiring.open_store(config) as store:
        store.connection.set_trace_callback(statements.append)
        passes.run_once(config, store, now=Clock(datetime.now(UTC)))
    outbox_txs = [t for t in _write_transactions(statements) if any("outbox" in s for s in t)]
    assert [[s.split()[0] for s in t] for t in outbox_txs] == [
        ["INSERT", "INSERT"],  # the keyword flag, the withdrawal scheduled (and due: dispatched)
        ["UPDATE"],  # rendered and stored: pending
        ["UPDATE"],  # attempt counted
        ["UPDATE", "INSERT"],  # sent, and its follow-up queued
        ["UPDATE"],  # the copy filed in Sent
    ]
    assert len(world.received(world.sam)) == 1
