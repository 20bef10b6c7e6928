"""CalDAV faults during calendar updates (issue 17, item 3), shared by the quick test in
`make test` and the long one in `make stress`: passes run while Radicale is restarted, taken
down, and answers bursts of 503s in the middle of a pass; every event is declined once."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from decliner.core.plan.timing import RETRY_MAX
from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.proxy import Proxy
from tests.testbed.world import SOON, Clock, run_pass

UNAVAILABLE = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
FAULTS = ("restart", "down", "burst", "none")


def calendar_storm(cal: CalendarWorld, count: int, seed: int, *, chaos: bool) -> dict[str, int]:
    """`count` flagged invitations, in mail and in Jane's calendar, driven to the end through
    random faults before and during passes (with `chaos`, Radicale is also restarted at random
    moments from another thread); checks exactly-once and returns what happened."""
    rng = random.Random(seed)
    urls = [
        cal.invite_both(f"storm-{n}@example.com", SOON + timedelta(hours=n)) for n in range(count)
    ]
    clock = Clock(datetime.now(UTC))
    seen = dict.fromkeys((*FAULTS, "chaos restarts", "passes", "retried"), 0)
    stop = threading.Event()
    server = threading.Lock()

    def restarter() -> None:
        while not stop.wait(rng.uniform(0.05, 0.6)):  # a fault schedule, not a wait for a result
            with server:
                cal.radicale.stop()
                cal.radicale.start()
                seen["chaos restarts"] += 1

    with Proxy(cal.radicale.port) as proxy:
        # No follow-ups: the clock runs a day or more ahead over the passes, and only the
        # withdrawals are counted at the recruiter's end.
        config = cal.world.config(
            extra=f'[followup]\nenabled = false\n[calendar]\nurl = "http://127.0.0.1:{proxy.port}/"\n'
        )
        thread = threading.Thread(target=restarter, daemon=True)
        if chaos:
            thread.start()
        try:
            for _ in range(4 * count + 10):
                fault = rng.choice(FAULTS)
                seen[fault] += 1
                if fault == "restart":
                    with server:
                        cal.radicale.stop()
                        cal.radicale.start()
                elif fault == "burst":  # in the middle of the pass's updates
                    proxy.burst("PUT", UNAVAILABLE, rng.randint(1, 4), skip=rng.randrange(count))
                if fault == "down":
                    with server:  # no chaos restart may bring it back during this pass
                        cal.radicale.stop_serving()
                        run_pass(config, clock)
                        cal.radicale.start_again()
                else:
                    run_pass(config, clock)
                seen["passes"] += 1
                clock.now += RETRY_MAX + timedelta(minutes=1)  # past any row's backoff
                if _all_sent(cal, count):
                    break
        finally:
            stop.set()
            if chaos:
                thread.join()
        proxy.bursts.clear()
        puts = [r for r in proxy.requests if r.startswith("PUT ")]
    assert _all_sent(cal, count), cal.log()
    for url in urls:
        text = cal.get(url)
        assert text.count("BEGIN:VEVENT") == 1 and text.count("PARTSTAT=DECLINED") == 1, text
    # Each update reached the server once; a restart can cut a PUT the server already stored,
    # and the retry then meets the new ETag (412), re-reads, and writes nothing more.
    assert count <= len(puts) <= count + seen["chaos restarts"] + seen["restart"], puts
    letters = cal.world.received(cal.world.sam)
    assert len(letters) == count, [str(m["Subject"]) for m in letters]  # each letter once
    seen["retried"] = sum(1 for r in cal.log() if r["attempts"] > 1)
    return seen


def _all_sent(cal: CalendarWorld, count: int) -> bool:
    rows = cal.log()
    return len(rows) == count and all(r["state"] == "sent" for r in rows)
