"""Before and after in the same run: the raw client, decliner from another checkout and
decliner from this one, in turn on one kept mailbox (issue 28's before/after table).

`BENCH_MAILBOXES=dir python -m bench.wire_ab OTHER SIZE ROUNDS`, where OTHER is a directory
holding the other version's `decliner/` package (e.g. `git archive BASE decliner | tar -x
-C OTHER`); it is run with OTHER as its working directory, which comes first on its path.
Each round: raw; each decliner's first scan on a fresh state db and right after it its
quiet pass (both pay Dovecot's tidying of what the scan wrote); the raw quiet pass.
Prints each round and the medians of the ratios to raw.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.bench_wire import ALIASES, ME, Run, chown_to_mail, cold, decliner_found, mailbox, measure
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.proxy import Proxy


def rounds(other: Path, size: int, count: int) -> list[dict[str, Run]]:
    """`count` rounds of the four clients on a `size`-message mailbox."""
    root = Path(tempfile.mkdtemp(prefix="decliner-ab-"))
    root.chmod(0o755)
    dovecot = Dovecot(root / "dovecot")
    dovecot.start()
    account = dovecot.new_account("bench")
    maildir = dovecot.layout.mail_dir / account.address / "Maildir"
    maildir.parent.mkdir(parents=True, exist_ok=True)
    kept = mailbox(maildir, size)
    found = []
    try:
        chown_to_mail(dovecot.layout.mail_dir / account.address)
        with dovecot.imap(account) as client:
            client.select_folder("INBOX", readonly=True)
        with Proxy(dovecot.imap_port) as proxy:
            login = [str(proxy.port), account.address, account.password]
            clients = [sys.executable, "-m", "bench.wire_clients"]
            for n in range(count):
                runs = {}
                cold(maildir)
                runs["raw"] = measure("raw", [*clients, "raw", *login], proxy)
                for label, prefix in (("before", ["env", "-C", str(other)]), ("after", [])):
                    work = root / f"{label}{n}"
                    work.mkdir()
                    text = config_text(
                        dovecot, account, work, me=ME, aliases=ALIASES, imap_port=proxy.port
                    )
                    config = str(load_config(text, work).source)
                    argv = [*prefix, sys.executable, "-m", "decliner", "--config", config]
                    state = work / "state.db"
                    cold(maildir)
                    runs[label] = measure(
                        label, [*argv, "run", "--once"], proxy, lambda s=state: decliner_found(s)
                    )
                    runs[f"{label} quiet"] = measure(
                        label, [*argv, "run", "--once"], proxy, lambda s=state: decliner_found(s)
                    )
                runs["raw quiet"] = measure("raw quiet", [*clients, "raw-quiet", *login], proxy)
                assert runs["raw"].found == runs["before"].found == runs["after"].found
                print("  ".join(f"{k} {v.wall:.2f}s {v.cpu:.2f}c" for k, v in runs.items()))
                found.append(runs)
    finally:
        dovecot.stop()
        if kept is not None:
            shutil.rmtree(kept / "Maildir", ignore_errors=True)
            maildir.rename(kept / "Maildir")
        shutil.rmtree(root, ignore_errors=True)
    return found


def main() -> None:
    """Run the rounds and print the medians of the ratios to raw."""
    other, size, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    done = rounds(other, size, count)
    for label in ("before", "after"):
        wall = statistics.median(r[label].wall / r["raw"].wall for r in done)
        cpu = statistics.median(r[label].cpu / r["raw"].cpu for r in done)
        data = statistics.median(r[label].bytes_down / r["raw"].bytes_down for r in done)
        quiet = statistics.median(r[f"{label} quiet"].cpu for r in done)
        print(
            f"{size:,} {label}: first scan {wall:.2f}x raw wall, {cpu:.2f}x raw CPU,"
            f" {data:.2f}x raw bytes; quiet run --once {quiet:.2f} s CPU"
        )


if __name__ == "__main__":
    main()
