"""Kills inside the SMTP conversation: the moments the test proxy trips at, and the case of
`run --once` or the daemon killed at one of them, then run to the end and counted."""

from __future__ import annotations

import email
import email.policy
import signal
import subprocess
import sys
from collections import Counter
from functools import partial

from decliner.config import Config
from decliner.core.plan.outbox import OutboxRow
from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.daemon_harness import running
from tests.testbed.helpers import config_text, followup_at_any_time, load_config
from tests.testbed.proxy import Proxy
from tests.testbed.wait import wait_until
from tests.testbed.world import World

FINAL_DOT = b"\r\n.\r\n"


# name: (the client's chunk that trips the wire, which one, bytes of it forwarded, copies
# the recruiter ends with: two only when the server took the whole message, SPEC 5's resend)
MOMENTS = {
    "connected": (b"EHLO ", 1, 0, 1),
    "after-rcpt": (b"DATA\r\n", 1, 0, 1),
    "mid-data": (FINAL_DOT, 1, 200, 1),
    "before-250": (FINAL_DOT, 1, None, 2),
    "followup-mid-data": (FINAL_DOT, 2, 200, 1),
}


def start(config: Config, *, daemon: bool) -> subprocess.Popen[bytes]:
    """`decliner run --once`, or the daemon (`run`)."""
    command = ["run"] if daemon else ["run", "--once"]
    return subprocess.Popen(
        [sys.executable, "-m", "decliner", "--config", str(config.source), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _tripped_or_ended(proxy: Proxy, process: subprocess.Popen[bytes]) -> bool:
    return proxy.tripped.is_set() or process.poll() is not None


def configure(world: World, smtp_port: int) -> Config:
    """Jane's config through `smtp_port`; the follow-up due at once, at any hour and day."""
    extra = '\n[withdrawal]\ngrace = "0"\n' + followup_at_any_time("0s")
    text = config_text(
        world.dovecot, world.jane, world.tmp, smtp_port=smtp_port, smtp_timeout="10m", extra=extra
    )
    return load_config(text, world.tmp)


def killed_in_conversation(world: World, moment: str, *, daemon: bool) -> None:
    """The case at `moment` with `run --once` or with the real daemon (`run`, then started
    again and left to finish), which `make stress` repeats 25 times per moment."""
    pattern, nth, cut, copies = MOMENTS[moment]
    world.invite(f"smtp-{moment}@example.com")
    with Proxy(world.smtp.plain.port) as proxy:
        proxy.trip = (pattern, nth, cut)
        config = configure(world, proxy.port)
        process = start(config, daemon=daemon)
        try:
            for _ in range(nth):  # with --once, the follow-up goes in the next pass
                wait_until(
                    partial(_tripped_or_ended, proxy, process),
                    f"the SMTP conversation to reach {moment}",
                )
                if proxy.tripped.is_set():
                    break
                process = start(config, daemon=daemon)
            assert proxy.tripped.is_set(), f"no pass reached {moment}"
            if cut is None:  # the server has the whole message; its 250 is held at the proxy
                wait_until(lambda: len(world.smtp.plain.messages) >= nth, "the server's copy")
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert process.returncode == -signal.SIGKILL  # killed at the moment, not ended
    config = configure(world, world.smtp.plain.port)
    if daemon:
        with running(config.source, world.tmp) as (decliner, _listener):
            decliner.wait(partial(_both_filed, config), "both messages sent and filed")
    else:
        for _ in range(2):
            assert start(config, daemon=False).wait() == 0
    with wiring.open_store(config) as store:
        rows: dict[str, OutboxRow] = {r.kind: r for r in outbox_db.rows(store.connection)}
    assert rows["withdrawal"].state == rows["followup"].state == "sent"
    assert rows["withdrawal"].copied and rows["followup"].copied
    received = Counter(
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in world.dovecot.fetch_all(world.sam, "INBOX")
    )
    killed = "followup" if moment.startswith("followup") else "withdrawal"
    other = "withdrawal" if killed == "followup" else "followup"
    assert received == Counter({rows[killed].message_id: copies, rows[other].message_id: 1})
    filed = Counter(
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in world.dovecot.fetch_all(world.jane, "Sent")
    )
    assert filed == Counter({rows["withdrawal"].message_id: 1, rows["followup"].message_id: 1})


def _both_filed(config: Config) -> bool:
    with wiring.open_store(config) as store:
        rows = outbox_db.rows(store.connection)
    return len(rows) == 2 and all(r.state == "sent" and r.copied for r in rows)
