"""The crash matrix for a process letter (SPEC 18): three invitations of one hiring process,
one flagged, `run --once` SIGKILLed at a moment of the letter or of the REPLY messages that
follow it (`DECLINER_FAILPOINT=<moment>#<n>`), then run to the end and everything counted."""

from __future__ import annotations

import email
import email.policy
import json
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from decliner.service import wiring
from decliner.store import outbox as outbox_db
from tests.testbed.crash_matrix import run_once
from tests.testbed.world import World

UIDS = ("screen@acme.example", "tech@acme.example", "onsite@acme.example")
LEAD = "tech@acme.example"  # the one flagged

# The n-th time a moment is reached in the killed pass: 1 is the letter, 2 and 3 the REPLY
# messages (copy-filed counts the copies, filed after all three are sent).
CASES = (
    "smtp-accepted#1",  # the letter taken by the server, not recorded: resent, same id
    "marked-sent#1",  # the letter recorded sent and the REPLY messages queued, none sent
    "rendered#2",  # the first REPLY stored, not tried
    "attempt-begun#2",
    "smtp-accepted#2",  # the first REPLY taken, not recorded: resent, same id
    "marked-sent#2",
    "rendered#3",
    "smtp-accepted#3",
    "copy-filed#1",
    "copy-filed#3",
)
LONG_CASES = tuple(
    f"{point}#{n}"
    for point in ("rendered", "attempt-begun", "smtp-accepted", "marked-sent", "copy-filed")
    for n in (1, 2, 3)
)


def process_of_three(world: World) -> None:
    """Sam's three invitations to Jane, a day apart, only the technical round flagged."""
    soon = datetime.now(UTC) + timedelta(days=5)
    for day, uid in enumerate(UIDS):
        world.invite(uid, start=soon + timedelta(days=day), flagged=uid == LEAD)


def _declined_uids(message: EmailMessage) -> list[str]:
    found = []
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            text = str(part.get_content()).replace("\r\n ", "")
            if "PARTSTAT=DECLINED" in text:
                found += [
                    line.split(":", 1)[1].strip()
                    for line in text.splitlines()
                    if line.startswith("UID:")
                ]
    return found


def killed_then_finished(world: World, point: str) -> None:
    """Kill at `point`, then two clean passes: one letter, two REPLY messages, each event
    declined exactly once, every copy filed once, nothing left waiting."""
    process_of_three(world)
    config = world.config()
    listed = json.loads(world.cli("invites", "--json").output)
    assert len({item["process"] for item in listed}) == 1, listed
    assert run_once(config, point) == -signal.SIGKILL, f"{point} was never reached"
    for _ in range(2):
        assert run_once(config) == 0

    received = world.received(world.sam)
    by_id: dict[str, EmailMessage] = {str(m["Message-ID"]): m for m in received}
    copies = Counter(str(m["Message-ID"]) for m in received)
    resent = point.startswith("smtp-accepted")
    assert sorted(copies.values()) == ([1, 1, 2] if resent else [1, 1, 1]), copies
    subjects = sorted(str(m["Subject"]) for m in by_id.values())
    assert [s.startswith("Declined: ") for s in subjects].count(True) == 2, subjects
    declined = Counter(uid for m in by_id.values() for uid in _declined_uids(m))
    assert declined == dict.fromkeys(UIDS, 1), declined

    with wiring.open_store(config) as store:
        rows = outbox_db.rows(store.connection)
    states = sorted((r.kind, r.state, r.copied) for r in rows)
    assert states == [
        ("decline", "sent", True),
        ("decline", "sent", True),
        ("followup", "scheduled", False),
        ("withdrawal", "sent", True),
    ], states
    assert {r.message_id for r in rows if r.message_id} == set(by_id)
    sent_folder = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in world.dovecot.fetch_all(world.jane, "Sent")
    ]
    assert sorted(str(m["Message-ID"]) for m in sent_folder) == sorted(by_id)
    statuses = {
        item["uid"]: item["status"] for item in json.loads(world.cli("invites", "--json").output)
    }
    assert statuses == dict.fromkeys(UIDS, "withdrawn"), statuses
