"""IMAP faults under the real daemon (issue 17, item 3): Dovecot restarts while invitations
arrive and get flagged, and a UIDVALIDITY bump; each invitation withdrawn exactly once.
`make stress` runs the long versions (tests/integration/stress/test_imap_faults_long.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testbed.daemon_harness import running
from tests.testbed.dovecot import Dovecot
from tests.testbed.imap_faults import bump_uidvalidity, filed, restart, storm
from tests.testbed.smtpd import SmtpServers

pytestmark = pytest.mark.servers


def test_dovecot_restarts_while_invitations_arrive(
    tmp_path: Path, own_dovecot: Dovecot, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """Six invitations arrive and get flagged across two Dovecot restarts (each cuts the
    command and IDLE connections): each is withdrawn once and its copy filed once."""
    world = storm(tmp_path, own_dovecot, dovecot, smtp_servers)
    with running(world.config, tmp_path) as (decliner, _listener):
        for n in range(6):
            if n in (2, 4):
                restart(world.own)
            world.deliver(n)
        decliner.wait(world.all_sent, "every withdrawal")
        decliner.wait(lambda: filed(world.own, world.jane) >= 6, "every sent copy")
    world.check_exactly_once(decliner)


def test_a_uidvalidity_bump_sends_nothing_twice(
    tmp_path: Path, own_dovecot: Dovecot, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """INBOX gets a new UIDVALIDITY after four withdrawals: the daemon reads it again from
    the start, sends nothing again for the four, and handles the four that arrive after."""
    world = storm(tmp_path, own_dovecot, dovecot, smtp_servers)
    with running(world.config, tmp_path) as (decliner, _listener):
        for n in range(4):
            world.deliver(n)
        decliner.wait(world.all_sent, "the first four withdrawals")
        bump_uidvalidity(world.own, world.jane)
        for n in range(4, 8):
            world.deliver(n)
        decliner.wait(lambda: decliner.logged("UIDVALIDITY changed") > 0, "the bump noticed")
        decliner.wait(world.all_sent, "the last four withdrawals")
        decliner.wait(lambda: filed(world.own, world.jane) >= 8, "every sent copy")
    world.check_exactly_once(decliner)
