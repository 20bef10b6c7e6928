"""Flag -> SMTP latency with the daemon in IDLE (issue 16): `decliner run` with `grace = 0`
watches INBOX; another client sets the flag keyword on an invitation at t0; the SMTP
server stamps the withdrawal's arrival at t1. Prints p50/p99 over the trials, the
daemon's peak RSS, and, as the reference, one IMAP round trip (NOOP) on the same server.
The reference, in the same run: how long this Dovecot takes to tell a bare IDLE client
that another client set a flag (Dovecot holds IDLE notices back about half a second), so
decliner's own share is the difference. `python -m bench.bench_latency [TRIALS]` (default
100).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from tests.testbed.daemon_harness import running
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.mailfactory import google_invite
from tests.testbed.oauth import OAuthServer
from tests.testbed.smtpd import lmtp_deliverer, start_smtp_servers
from tests.testbed.wait import wait_until
from tests.testbed.world import SOON


def _arrived(server: Any, count: int) -> bool:
    """Whether the SMTP server has accepted more than `count` messages (read afresh)."""
    return len(server.messages) > count


def percentile(values: list[float], fraction: float) -> float:
    """The value at `fraction` of the way through `values`, sorted (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    """Measure invite-to-withdrawal latency over `trials` runs (argv[1], default 100)."""
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    root = Path(tempfile.mkdtemp(prefix="decliner-latency-"))
    root.chmod(0o755)
    oauth = OAuthServer()
    oauth.start()
    dovecot = Dovecot(root / "dovecot", introspection_url=oauth.introspection_url)
    dovecot.start()
    smtp = start_smtp_servers(
        password_of=dovecot.password_of,
        tokens=oauth.registry,
        deliver=lmtp_deliverer(dovecot.host, dovecot.lmtp_port),
        cert_file=str(dovecot.cert_file),
        key_file=str(dovecot.key_file),
    )
    try:
        jane, sam = dovecot.new_account("jane"), dovecot.new_account("sam")
        uids = []
        for n in range(trials):
            raw, _ = google_invite(
                organizer=sam.address,
                organizer_name="Sam",
                me=jane.address,
                uid=f"latency-{n}@example.com",
                start=SOON,
            )
            uids.append(dovecot.append(jane, "INBOX", raw))
        work = root / "work"
        work.mkdir()
        text = config_text(
            dovecot,
            jane,
            work,
            smtp_port=smtp.plain.port,
            # scope "interview": one recruiter's invitations are one hiring process (SPEC 18),
            # so with "process" the first flag's letter would decline all the others at once
            # and every later trial would time a message already sent.
            extra='\n[withdrawal]\ngrace = "0"\nscope = "interview"\n[followup]\nenabled = false\n',
        )
        config = load_config(text, work)
        bare = idle_notice_latency(dovecot, jane, uids[: min(20, trials)])
        latencies = []
        with running(config.source, work) as (decliner, _listener), dovecot.imap(jane) as flagger:
            flagger.select_folder("INBOX")
            for n, uid in enumerate(uids):
                t0 = time.monotonic()
                flagger.add_flags([uid], [b"Decline"])
                wait_until(partial(_arrived, smtp.plain, n), "the withdrawal")
                latencies.append(smtp.plain.messages[n].at - t0)
            rss = _rss_mb(decliner.process.pid)
        print(f"flag -> SMTP with IDLE, {trials} trials, grace 0:")
        print(
            f"  p50 {percentile(latencies, 0.5) * 1000:7.1f} ms   p99 {percentile(latencies, 0.99) * 1000:7.1f} ms"
            f"   mean {statistics.mean(latencies) * 1000:7.1f} ms   max {max(latencies) * 1000:7.1f} ms"
        )
        reference = percentile(bare, 0.5)
        print(
            f"  reference: a bare IDLE client hears of the flag after {reference * 1000:.1f} ms (p50);"
            f" decliner's p50 = {percentile(latencies, 0.5) / reference:.2f}x that,"
            f" {(percentile(latencies, 0.5) - reference) * 1000:.0f} ms of its own"
        )
        print(f"  daemon peak RSS {rss:.1f} MB")
    finally:
        smtp.stop()
        dovecot.stop()
        oauth.stop()


def idle_notice_latency(dovecot: Dovecot, account: Any, uids: list[int]) -> list[float]:
    """Seconds from setting a flag to a bare IDLE client's notice of it, per message
    (the flags are removed again, so the daemon's trials start from scratch)."""
    found = []
    with dovecot.imap(account) as watcher, dovecot.imap(account) as flagger:
        watcher.select_folder("INBOX", readonly=True)
        flagger.select_folder("INBOX")
        for uid in uids:
            watcher.idle()
            t0 = time.monotonic()
            flagger.add_flags([uid], [b"Decline"])
            watcher.idle_check(timeout=5)
            found.append(time.monotonic() - t0)
            watcher.idle_done()
        flagger.remove_flags(uids, [b"Decline"])
    return found


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
