"""Scan benchmark: decliner's first and quiet passes over 5,000 messages on a private Dovecot.

Prints each measurement as a ratio to a reference run in the same process on
the same mailbox: the first scan against a bare `UID FETCH 1:* (FLAGS)` (the
least any client can read), the quiet pass against one `NOOP` round trip.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from decliner.mail import imap
from decliner.mail.imap.scan import Scanner
from decliner.service import passes, wiring
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.imap_inbox import invite, plain_mail
from tests.testbed.proxy import Proxy

SIZE = 5000
ROUNDS = 5


def timed(action: Callable[[], object], rounds: int = ROUNDS) -> float:
    """The median wall time of `rounds` runs of `action`, in seconds."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    """Run the benchmark and print the ratios."""
    root = Path(tempfile.mkdtemp(prefix="decliner-bench-"))
    root.chmod(0o755)
    dovecot = Dovecot(root / "dovecot")
    dovecot.start()
    try:
        account = dovecot.new_account("bench")
        messages = [
            invite(f"b{n}@acme", "20270110T140000Z") if n % 50 == 0 else plain_mail(n)
            for n in range(SIZE)
        ]
        with dovecot.imap(account) as client:
            for start in range(0, SIZE, 500):
                client.multiappend("INBOX", messages[start : start + 500])

        def reference_read() -> None:
            with dovecot.imap(account) as client:
                client.select_folder("INBOX", readonly=True)
                client.fetch(client.search(["ALL"]), ["FLAGS"])

        def first_scan() -> None:
            work = Path(tempfile.mkdtemp(dir=root))
            config = load_config(config_text(dovecot, account, work), work)
            with wiring.open_store(config) as store:
                passes.scan(config, store)

        with Proxy(dovecot.imap_port) as proxy:
            work = Path(tempfile.mkdtemp(dir=root))
            config = load_config(config_text(dovecot, account, work, imap_port=proxy.port), work)
            with wiring.open_store(config) as store:
                passes.scan(config, store)
                with dovecot.imap(account) as client:
                    client.select_folder("INBOX", readonly=True)
                    noop = timed(client.noop, 50)
                proxy.reset()
                quiet = timed(lambda: passes.scan(config, store))
                quiet_commands = len(proxy.commands) // ROUNDS
                with imap.session(config) as client:
                    scanner = Scanner(config, store, now=wiring.utcnow)
                    proxy.reset()
                    warm = timed(lambda: scanner.scan(client), 20)
                    warm_commands = proxy.commands[: len(proxy.commands) // 20]

        reference = timed(reference_read)
        first = timed(first_scan)
        print(f"messages in folder            {SIZE}")
        print(
            f"first scan                    {first * 1000:8.1f} ms  = {first / reference:5.2f} x reference FLAGS read ({reference * 1000:.1f} ms)"
        )
        print(
            f"quiet pass (incl. login)      {quiet * 1000:8.1f} ms  = {quiet / noop:5.1f} x one NOOP ({noop * 1000:.2f} ms)"
        )
        print(f"quiet pass IMAP commands      {quiet_commands} with login and logout")
        print(
            f"quiet pass, connected         {warm * 1000:8.2f} ms  = {warm / noop:5.1f} x one NOOP; commands: {' '.join(warm_commands)}"
        )
    finally:
        dovecot.stop()


if __name__ == "__main__":
    sys.exit(main())
