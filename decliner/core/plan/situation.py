"""Everything a pass knows about one interview, as planning reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from decliner.core.parse.model import Address
from decliner.core.parse.replies import Reply
from decliner.core.plan.events import EventRecord
from decliner.core.plan.naming import NOTHING, Found
from decliner.core.plan.outbox import OutboxRow


@dataclass(frozen=True, slots=True)
class Situation:
    """One interview: its flag, recipient, outbox rows and the replies to our messages."""

    event: EventRecord
    flagged_since: datetime | None
    recipient: Address | None
    withdrawal: OutboxRow | None = None
    followup: OutboxRow | None = None
    calendar: OutboxRow | None = None
    decline: OutboxRow | None = None  # the REPLY sent when another event's letter covered it
    replies: tuple[Reply, ...] = ()
    reason: str = ""  # the flag's own reason ([[cancel]].reason, flag --reason), if any
    language: str = ""  # the [[cancel]] rule's language, if any
    named: Found = NOTHING  # the role and company the letters name (SPEC 19)
    scope: str = "process"  # "process" or "interview" (SPEC 18)
    process: str = ""  # the hiring process's id (SPEC 18); "" = its own
