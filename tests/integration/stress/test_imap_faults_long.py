"""IMAP faults at volume (`make stress`, issue 17 item 3): 50 invitations arrive and get
flagged while Dovecot is restarted, on a schedule and at random moments; a UIDVALIDITY bump
in the middle of the stream. Each invitation is withdrawn exactly once, its copy filed once."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from tests.testbed.daemon_harness import running
from tests.testbed.dovecot import Dovecot
from tests.testbed.imap_faults import bump_uidvalidity, filed, restart, storm
from tests.testbed.smtpd import SmtpServers

pytestmark = [pytest.mark.servers, pytest.mark.stress, pytest.mark.timeout(1800)]

INVITATIONS = 50


@pytest.mark.parametrize("seed", range(5))
def test_fifty_invitations_through_dovecot_restarts(
    tmp_path: Path, own_dovecot: Dovecot, dovecot: Dovecot, smtp_servers: SmtpServers, seed: int
) -> None:
    """A restart after every fifth arrival, and more at random moments from another thread
    (so they land mid-pass, mid-IDLE, mid-append of a sent copy): 50/50 handled once."""
    world = storm(tmp_path, own_dovecot, dovecot, smtp_servers)
    server = threading.Lock()  # deliveries need Dovecot up; restarts take it down
    done = threading.Event()
    rng = random.Random(seed)
    restarts = 0

    def restarter() -> None:
        nonlocal restarts
        while not done.wait(rng.uniform(0.2, 3.0)):  # a fault schedule, not a wait for a result
            with server:
                restart(world.own)
                restarts += 1

    with running(world.config, tmp_path) as (decliner, _listener):
        chaos = threading.Thread(target=restarter, daemon=True)
        chaos.start()
        try:
            for n in range(INVITATIONS):
                with server:
                    if n and n % 5 == 0:
                        restart(world.own)
                        restarts += 1
                    world.deliver(n)
        finally:
            done.set()
            chaos.join()
        decliner.wait(world.all_sent, "50 withdrawals")
        decliner.wait(lambda: filed(world.own, world.jane) >= INVITATIONS, "50 sent copies")
    world.check_exactly_once(decliner)
    print(f"{INVITATIONS} invitations, {restarts} Dovecot restarts: each withdrawn once")


def test_a_uidvalidity_bump_mid_stream(
    tmp_path: Path, own_dovecot: Dovecot, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """A new UIDVALIDITY while the stream of 50 is half handled: nothing sent twice."""
    world = storm(tmp_path, own_dovecot, dovecot, smtp_servers)
    with running(world.config, tmp_path) as (decliner, _listener):
        for n in range(INVITATIONS):
            if n == INVITATIONS // 2:
                bump_uidvalidity(world.own, world.jane)
            world.deliver(n)
        decliner.wait(lambda: decliner.logged("UIDVALIDITY changed") > 0, "the bump noticed")
        decliner.wait(world.all_sent, "50 withdrawals")
        decliner.wait(lambda: filed(world.own, world.jane) >= INVITATIONS, "50 sent copies")
    world.check_exactly_once(decliner)
