"""APScheduler as the alarm clock: one date job per waiting outbox row, rebuilt from the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from decliner import config as cfg
from decliner.daemon import Daemon
from decliner.store import Store
from decliner.store import outbox as outbox_db

NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)


def maildir_config(tmp_path: Path) -> cfg.Config:
    (tmp_path / "mail").mkdir()
    path = tmp_path / "config.toml"
    path.write_text(
        '[account]\nname = "Jane"\nemail = "jane@example.com"\n'
        '[maildir]\npath = "mail"\n[smtp]\ntransport = "maildir"\nmaildir_path = "out"\n'
        '[state]\npath = "state.db"\n',
        encoding="utf-8",
    )
    return cfg.load(path)


def add_event(conn: object, event_id: str) -> None:
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO events (id, uid, starts_at, ends_at, calendar, first_seen, updated)"
        " VALUES (?, ?, ?, ?, '', ?, ?)",
        (
            event_id,
            f"{event_id}@x",
            "2027-01-01T00:00:00+00:00",
            "2027-01-01T01:00:00+00:00",
            NOW.isoformat(),
            NOW.isoformat(),
        ),
    )


def test_jobs_follow_the_outbox(tmp_path: Path) -> None:
    """Each waiting row has exactly one job (id = row id, UTC date trigger, no misfire limit,
    coalesced); re-adding replaces; rows that stop waiting lose their job."""
    daemon = Daemon(maildir_config(tmp_path))

    async def scenario() -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        await daemon.worker.run(daemon.session.open)
        daemon.scheduler = AsyncIOScheduler(timezone=UTC)
        daemon.scheduler.start(paused=True)  # inspect jobs without running them
        store = daemon.session.store
        assert store is not None

        def setup() -> tuple[int, int]:
            with store.transaction() as conn:
                add_event(conn, "e1")
                add_event(conn, "e2")
                first = outbox_db.schedule(
                    conn, "e1", "withdrawal", NOW + timedelta(minutes=5), NOW
                )
                second = outbox_db.schedule(conn, "e2", "withdrawal", NOW + timedelta(hours=1), NOW)
                assert outbox_db.schedule(conn, "e1", "withdrawal", NOW, NOW) is None  # one a kind
            assert first is not None and second is not None
            return first, second

        first, second = await daemon.worker.run(setup)
        for _ in range(3):  # rebuilt again and again: never duplicated
            await daemon._reschedule()
        jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
        assert set(jobs) == {str(first), str(second)}
        job = jobs[str(first)]
        assert job.trigger.run_date == NOW + timedelta(minutes=5)
        assert job.misfire_grace_time is None and job.coalesce is True

        def move_and_cancel() -> None:
            with store.transaction() as conn:
                conn.execute(
                    "UPDATE outbox SET due = ? WHERE id = ?",
                    ((NOW + timedelta(days=1)).isoformat(), first),
                )
                outbox_db.cancel(conn, second, "unflagged")

        await daemon.worker.run(move_and_cancel)
        await daemon._reschedule()
        jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
        assert set(jobs) == {str(first)}
        assert jobs[str(first)].trigger.run_date == NOW + timedelta(days=1)
        daemon.scheduler.shutdown(wait=False)
        await daemon.worker.run(daemon.session.close)
        daemon.worker.close()

    asyncio.run(scenario())


def test_no_attempt_on_a_row_another_process_took(tmp_path: Path) -> None:
    """A row cancelled (or sent) by another process between planning and the attempt: the
    attempt is not counted and the caller must not send."""
    with Store.open(tmp_path / "state.db") as store, store.transaction() as conn:
        add_event(conn, "e1")
        row_id = outbox_db.schedule(conn, "e1", "withdrawal", NOW, NOW)
        assert row_id is not None
        outbox_db.store_rendered(
            conn,
            row_id,
            message_id="<m@x>",
            raw=b"x",
            to=("a@x",),
            cc=(),
            subject="s",
            in_reply_to="",
            references=(),
        )
        outbox_db.cancel(conn, row_id, "cancelled_by_organizer")
        assert outbox_db.begin_attempt(conn, row_id, NOW) is False
        assert outbox_db.get(conn, row_id).attempts == 0
