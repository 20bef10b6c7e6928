"""The REPLY message declining one more interview of a process (SPEC 18), as a calendar
client sends it: `Declined: <summary>`, threaded under its own invitation, one line of
text in the letter's language, and the iTIP REPLY."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from decliner.core.letters.headers import decline_subject
from decliner.core.letters.itip import decline_reply
from decliner.core.letters.render import Rendered, compose, envelope_for
from decliner.core.letters.templating import builtin_template, context, fill
from decliner.core.parse.model import Address
from decliner.core.plan.events import EventRecord
from decliner.core.plan.naming import Found


def render_decline(
    *,
    event: EventRecord,
    me: Address,
    recipient: Address,
    reason: str,
    now: datetime,
    zone: ZoneInfo,
    token: str,
    language: str = "en",
    named: Found | None = None,
) -> Rendered:
    """The REPLY message declining `event`, to `recipient` (its organizer); raises
    RenderError for data that cannot be sent safely."""
    variables = context(
        event=event,
        me=me,
        recipient=recipient,
        reason=reason,
        offer_help=False,
        keep_in_touch=False,
        short_notice=False,
        now=now,
        declined=True,
        language=language,
        named=named,
    )
    filled = fill(builtin_template("decline", language), variables, zone, language)
    envelope = envelope_for(
        me=me,
        recipient=recipient,
        cc=(),
        filled=filled,
        subject=decline_subject(event),
        now=now,
        zone=zone,
        token=token,
        in_reply_to="" if event.invite.from_calendar else event.invite.message_id,
        references=() if event.invite.from_calendar else event.invite.references,
    )
    calendar = decline_reply(event=event, me=envelope.me, reason=reason, now=now, zone=zone)
    return compose(envelope, filled.body, calendar)
