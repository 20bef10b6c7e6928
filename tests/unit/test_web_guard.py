"""The review page's guard (SPEC 21): one secret per state dir, kept 0600; one-time
tickets that work once and not when stale; the Host and Origin of the page's own port."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

from decliner import logs
from decliner.web import guard as guards


def test_the_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    """The first load writes a random secret (0600, in a 0700 dir); later loads read it."""
    state = tmp_path / "state"
    first = guards.load(state, 8425)
    again = guards.load(state, 9000)
    assert first.secret == again.secret
    assert len(first.secret) >= 32
    assert stat.S_IMODE((state / guards.SECRET_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert first.csrf_token != first.secret
    assert first.secret not in first.csrf_token
    other = guards.load(tmp_path / "other", 8425)
    assert other.secret != first.secret


def test_a_ticket_works_once_even_when_raced(tmp_path: Path) -> None:
    """Of twenty threads redeeming one ticket at once, exactly one gets in."""
    guard = guards.load(tmp_path, 8425)
    ticket = guards.issue_ticket(tmp_path)
    start = threading.Barrier(20)
    results: list[bool] = []

    def redeem() -> None:
        start.wait()
        results.append(guard.redeem(ticket))

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 19 + [True]
    assert guard.redeem(ticket) is False


def test_stale_made_up_and_empty_tickets_are_refused(tmp_path: Path) -> None:
    """A ticket older than its lifetime is refused (and used up); so is one never issued."""
    guard = guards.load(tmp_path, 8425)
    ticket = guards.issue_ticket(tmp_path)
    written = next((tmp_path / guards.TICKETS).iterdir()).stat().st_mtime
    assert guard.redeem(ticket, now=written + guards.TICKET_LIFETIME + 1) is False
    assert guard.redeem(ticket) is False
    assert guard.redeem("made-up") is False
    assert guard.redeem("") is False
    assert guard.redeem("x" * 10_000) is False
    assert ticket not in "".join(p.name for p in (tmp_path / guards.TICKETS).iterdir())


def test_only_the_loopback_host_and_origin_of_this_port() -> None:
    """Host must be 127.0.0.1 or localhost with the page's port; Origin likewise, if sent."""
    guard = guards.Guard("s" * 43, Path(), 8425)
    assert guard.host_allowed("127.0.0.1:8425")
    assert guard.host_allowed("localhost:8425")
    for host in (None, "", "127.0.0.1", "127.0.0.1:8426", "evil.example:8425", "[::1]:8425"):
        assert not guard.host_allowed(host), host
    assert guard.origin_allowed(None)
    assert guard.origin_allowed("http://localhost:8425")
    for origin in ("null", "http://evil.example", "https://127.0.0.1:8425", "http://127.0.0.1"):
        assert not guard.origin_allowed(origin), origin
    assert guard.signed_in("s" * 43)
    assert not guard.signed_in("s" * 42)
    assert not guard.signed_in(None)


def test_the_secret_and_tickets_are_masked_in_logs(tmp_path: Path) -> None:
    """Once loaded or issued, the secret and each ticket read *** in any log line."""
    guard = guards.load(tmp_path, 8425)
    ticket = guards.issue_ticket(tmp_path)
    line = f"GET /login?ticket={ticket} cookie={guard.secret}"
    assert logs.scrub(line) == f"GET /login?ticket={logs.MASK} cookie={logs.MASK}"
