"""Calendar benchmark: reading invitations from a CalDAV calendar of 1,000 events (SPEC 13).

A private Radicale behind a counting proxy. Prints, for the first pass, a quiet
pass and a pass after one event changed, the HTTP requests and bytes on the wire
and the median time, as a ratio to a reference run in the same process: one bare
PROPFIND of the calendar's ETag (the least any client can ask a server).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bench.bench_scan import timed
from decliner import config as cfg
from decliner.calendar.client import CalDav
from decliner.calendar.sync import CalendarReader
from decliner.config.credentials import Credential
from decliner.store import Store
from tests.testbed.calendar_world import stored_copy
from tests.testbed.mailfactory import calendar
from tests.testbed.proxy import Proxy
from tests.testbed.radicale import Radicale

SIZE = 1000
ROUNDS = 5  # as bench_scan's `timed`


def fill(radicale: Radicale, calendar_url: str, me: str) -> Path:
    """SIZE invitations written straight into Radicale's storage (a PUT each would take
    minutes); the collection's folder."""
    path = unquote(urlsplit(calendar_url).path).strip("/")
    folder = radicale.root / "collections" / "collection-root" / path
    start = datetime.now(UTC) + timedelta(days=3)
    for n in range(SIZE):
        ics = calendar(
            uid=f"bench-{n}@example.com",
            start=start + timedelta(hours=n),
            summary=f"Interview {n}",
            organizer="sam@acme.example",
            organizer_name="Sam",
            me=me,
        )
        (folder / f"bench-{n}.ics").write_text(stored_copy(ics), encoding="utf-8")
    return folder


def main() -> None:
    """Run the benchmark and print requests, bytes and time ratios."""
    with tempfile.TemporaryDirectory(prefix="decliner-bench-") as tmp:
        root = Path(tmp)
        radicale = Radicale(root / "radicale")
        radicale.start()
        try:
            jane = radicale.new_account("jane")
            url = radicale.make_calendar(jane, "Work")
            folder = fill(radicale, url, jane.username)
            with Proxy(radicale.port) as proxy:
                run(root, Credential(jane.username, jane.password), proxy, folder)
        finally:
            radicale.stop()


def run(root: Path, login: Credential, proxy: Proxy, folder: Path) -> None:
    """Time a first, a quiet and a one-change pass through the proxy, against one PROPFIND."""
    text = f"""
[account]
name = "Jane"
email = "{login.username}"
timezone = "Europe/Berlin"
[maildir]
path = "{root / "mail"}"
[smtp]
transport = "maildir"
maildir_path = "{root / "out"}"
[calendar]
url = "http://127.0.0.1:{proxy.port}/"
password = "x"
"""
    config = cfg.parse(text, root / "config.toml")
    assert config.calendar is not None
    caldav = CalDav(config.calendar, lambda: login)
    [collection] = caldav.collections()

    def reference() -> None:
        caldav.client().propfind(collection.url, props=None, depth=0)

    def measure(label: str, action: Callable[[], object], rounds: int) -> float:
        proxy.reset()
        seconds = timed(action, rounds)
        print(
            f"{label:<28} {len(proxy.requests) // rounds:>4} request(s)"
            f" {proxy.bytes_up // rounds:>9,} B up {proxy.bytes_down // rounds:>11,} B down"
            f" {seconds * 1000:>9.1f} ms"
        )
        return seconds

    print(f"calendar of {SIZE:,} invitations on Radicale, through a counting proxy")
    base = measure("reference: one PROPFIND", reference, ROUNDS)
    stores = iter(range(10_000))

    def first_pass() -> None:
        with Store.open(root / f"state-{next(stores)}.db") as store:
            report = CalendarReader(config, store, caldav, now=lambda: datetime.now(UTC)).read(
                [collection]
            )
            assert report.invites == SIZE, report

    first = measure("first pass (everything)", first_pass, 1)
    with Store.open(root / "state-kept.db") as store:
        reader = CalendarReader(config, store, caldav, now=lambda: datetime.now(UTC))
        reader.read([collection])
        quiet = measure("quiet pass", lambda: reader.read([collection]), ROUNDS)
        changed = folder / "bench-7.ics"

        def one_change() -> None:
            changed.write_text(changed.read_text().replace("Interview 7", "Interview 7 (moved)"))
            reader.read([collection])

        one = measure("pass after one change", one_change, ROUNDS)
    caldav.close()
    print(f"first pass   = {first / base:8.1f} x the reference")
    print(f"quiet pass   = {quiet / base:8.1f} x the reference")
    print(f"one change   = {one / base:8.1f} x the reference")


if __name__ == "__main__":
    main()
