"""The crash matrix inside the SMTP conversation (issue 17, item 1): `run --once` SIGKILLed
after connecting, after RCPT, mid-DATA, after the final dot before the 250, and during the
follow-up's send, the moment chosen at the wire by the test proxy; then run to the end.
Counted at the recruiter's mailbox by Message-ID and in the Sent folder."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys

import pytest

from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.proxy import Proxy
from tests.testbed.smtp_kills import MOMENTS, configure, killed_in_conversation, start
from tests.testbed.world import World

pytestmark = pytest.mark.servers


@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_inside_the_smtp_conversation(world: World, moment: str) -> None:
    """Killed at `moment`, then two passes: each message delivered once by Message-ID (twice,
    the same bytes, only when the server had taken all of it), filed once, nothing stuck."""
    killed_in_conversation(world, moment, daemon=False)


def test_sent_is_never_recorded_without_its_followup_queued(world: World) -> None:
    """The follow-up (and calendar) rows are written in the transaction that records the
    withdrawal as sent: killed just before it, neither exists; just after, both do. So no
    moment "sent, follow-up not yet queued" exists to be killed at."""
    world.invite("queued-together@example.com")
    config = configure(world, world.smtp.plain.port)
    seen = {}
    for point in ("smtp-accepted", "marked-sent"):
        subprocess.run(
            [sys.executable, "-m", "decliner", "--config", str(config.source), "run", "--once"],
            env={**os.environ, "DECLINER_FAILPOINT": point},
            check=False,
            capture_output=True,
        )
        with wiring.open_store(config) as store:
            rows = outbox_db.rows(store.connection)
        seen[point] = sorted((r.kind, r.state) for r in rows)
    assert seen["smtp-accepted"] == [("withdrawal", "pending")]
    assert ("withdrawal", "sent") in seen["marked-sent"]
    assert any(kind == "followup" for kind, _ in seen["marked-sent"])


def test_a_connection_dropped_after_the_250_counts_as_sent(world: World) -> None:
    """The server said 250 and the connection then dropped (at QUIT): the message is sent,
    recorded once, never resent, and its copy filed."""
    world.invite("dropped-after-250@example.com")
    with Proxy(world.smtp.plain.port) as proxy:
        proxy.trip, proxy.trip_drops = (b"QUIT", 1, 0), True
        config = configure(world, proxy.port)
        assert start(config, daemon=False).wait() == 0
        assert proxy.tripped.is_set()
    with wiring.open_store(config) as store:
        rows = {r.kind: r for r in outbox_db.rows(store.connection)}
    assert (rows["withdrawal"].state, rows["withdrawal"].attempts) == ("sent", 1)
    assert start(configure(world, world.smtp.plain.port), daemon=False).wait() == 0
    received = [
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in world.dovecot.fetch_all(world.sam, "INBOX")
    ]
    assert received.count(str(rows["withdrawal"].message_id)) == 1
