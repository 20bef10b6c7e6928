"""The daemon beside CLI commands on the same state db, and a daemon whose pass breaks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.testbed.daemon_harness import daemon, running
from tests.testbed.maildir_tree import Tree, invite
from tests.testbed.wait import wait_until


def _config(tree: Tree) -> Path:
    path = tree.config().source
    path.write_text(
        path.read_text().replace('path = "mail"\n', 'path = "mail"\npoll_interval = "1s"\n')
    )
    return path


def test_cli_flag_and_unflag_beside_a_running_daemon(tmp_path: Path) -> None:
    """While the daemon makes six passes, `flag`/`unflag` toggle six invitations and
    new flagged invitations arrive: no command fails, the daemon logs no error, and no
    invitation gets more than one withdrawal; the ones flagged at the end get exactly one."""
    tree = Tree(tmp_path)
    path = _config(tree)
    targets: dict[str, str] = {}
    for n in range(6):
        raw, targets[f"cli{n}@g"] = invite(f"cli{n}@g")
        tree.add(raw)
    arrived: dict[str, str] = {}
    with running(path, tmp_path) as (decliner, listener):
        start, step, flagged = listener.passes(), 0, set[str]()
        while listener.passes() < start + 6 and step < 3000:
            uid = list(targets)[step % len(targets)]
            command = "unflag" if uid in flagged else "flag"
            result = tree.cli(command, uid)
            if result.exit_code == 2 and "no invitation matches" in result.stderr:
                pass  # the daemon has not read this invite yet
            else:
                assert result.exit_code == 0, (command, uid, result.output)
                flagged ^= {uid}
            if step % 50 == 0:
                raw, message_id = invite(f"new{step}@g")
                arrived[f"new{step}@g"] = message_id
                tree.add(raw, "Decline")
            step += 1
        expected = {targets[u] for u in flagged} | set(arrived.values())
        assert listener.passes() - start >= 2, "the daemon made no passes while the commands ran"
        wait_until(
            lambda: expected <= {m["In-Reply-To"] for m in tree.received()},
            "a withdrawal for every invitation flagged at the end",
        )
        assert decliner.process.poll() is None
        assert decliner.logged("ERROR") == 0 and decliner.logged("Traceback") == 0
    replies_to = [m["In-Reply-To"] for m in tree.received() if "Re:" in m["Subject"]]
    assert len(replies_to) == len(set(replies_to)), "an invitation got two withdrawals"


def test_a_pass_that_breaks_is_logged_retried_and_ends_the_daemon_when_it_persists(
    tmp_path: Path,
) -> None:
    """An unexpected error in a pass (a table gone from the state db) is logged at ERROR with
    its traceback and retried with backoff; once mended, the daemon goes on and withdraws.
    Broken again for good, it exits 1 after five failures in a row, for systemd to restart."""
    tree = Tree(tmp_path)
    path = _config(tree)
    db = tmp_path / "state.db"
    with running(path, tmp_path) as (decliner, _listener):
        with sqlite3.connect(db) as conn:
            [(table_sql,)] = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'thread'")
            indexes = [
                sql
                for (sql,) in conn.execute(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = 'thread' AND type = 'index'"
                    " AND sql IS NOT NULL"
                )
            ]
            conn.execute("DROP TABLE thread")
        decliner.wait(
            lambda: decliner.logged("ERROR", "a pass failed unexpectedly") > 0,
            "an ERROR for the broken pass",
        )
        with sqlite3.connect(db) as conn:
            for sql in (table_sql, *indexes):
                conn.execute(sql)
        tree.add(invite("mend@g")[0], "Decline")
        decliner.wait(lambda: len(tree.received()) == 1, "the withdrawal after the mend")
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE thread")
    with daemon(path) as decliner:
        status = decliner.exit_status()
        output = decliner.output
    assert status == 1, output
    assert output.count("a pass failed unexpectedly") == 4
    assert "Traceback" in output and "no such table: thread" in output
    assert "a pass failed 5 times in a row (OperationalError)" in output
