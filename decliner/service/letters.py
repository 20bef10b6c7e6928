"""A pass's letters: the withdrawal or follow-up a Dispatch sends, written from what it carries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from decliner.config import Config
from decliner.core.letters.headers import RenderError, TemplateProblem
from decliner.core.letters.languages import Choice, choose
from decliner.core.parse.model import Address
from decliner.core.plan import recipient as recipients
from decliner.core.plan.events import EventRecord
from decliner.core.plan.flags import matching_rule
from decliner.core.plan.plan import Dispatch
from decliner.service.rules import cancel_rules

if TYPE_CHECKING:
    from decliner.core.letters.render import Rendered
    from decliner.service.runner import Snapshot


def render(
    config: Config,
    me: Address,
    action: Dispatch,
    snapshot: Snapshot,
    *,
    now: datetime,
    token: str,
) -> Rendered:
    """The message `action` sends, not yet stored; raises RenderError or TemplateProblem.
    (The renderer, Jinja2 and icalendar, is imported here: a pass that sends nothing
    never loads it.)"""
    from decliner.core.letters.render import render_followup, render_withdrawal

    s = action.situation
    event, to = s.event, s.recipient
    if to is None:
        raise RenderError(
            "no recipient: the organizer is you or a robot and the invite names no one else"
        )
    reason = s.reason or config.withdrawal.reason
    language = letter_language(config, event).language
    if action.kind == "withdrawal":
        return render_withdrawal(
            event=event,
            me=me,
            recipient=to,
            cc=[Address(a) for a in config.withdrawal.cc],
            reason=reason,
            offer_help=config.withdrawal.offer_help,
            keep_in_touch=config.withdrawal.keep_in_touch,
            short_notice=action.short_notice,
            now=now,
            zone=config.account.zone,
            token=token,
            # A static calendar (PUBLISH) has no organizer to process a REPLY (SPEC 1).
            attach_decline=config.withdrawal.attach_decline and event.kind == "request",
            template=template(config, config.withdrawal.template),
            language=language,
        )
    withdrawal = snapshot.rows.get((event.id, "withdrawal"))
    if withdrawal is None or withdrawal.message_id is None:
        raise RenderError("the follow-up needs the withdrawal to be sent first")
    cc = (
        [a for a in event.other_attendees if _may_copy(a, config)]
        if config.followup.cc_attendees
        else []
    )
    # The follow-up answers the newest message of the thread: their reply, if one came.
    replies = snapshot.replies.get(event.id, [])
    chain = [*withdrawal.references, withdrawal.message_id, *(r.message_id for r in replies)]
    return render_followup(
        event=event,
        me=me,
        recipient=to,
        cc=cc,
        in_reply_to=chain[-1],
        references=chain,
        withdrawal_date=withdrawal.sent_at or now,
        withdrawal_subject=withdrawal.subject,
        replied=bool(replies),
        now=now,
        zone=config.account.zone,
        token=token,
        template=template(config, config.followup.template),
        reason=reason,
        offer_help=config.withdrawal.offer_help,
        keep_in_touch=config.withdrawal.keep_in_touch,
        language=language,
    )


def letter_language(config: Config, event: EventRecord) -> Choice:
    """The language of the letters about `event` (SPEC 14): `[[cancel]].language`, else
    `account.language`; "auto" reads the invitation's description, then its text body, then
    its subject."""
    rule = matching_rule(event, cancel_rules(config))
    sources = [
        ("description", event.description),
        ("message's text", event.body_text),
        ("invitation's subject", event.invite.subject or event.summary),
    ]
    return choose(rule.language if rule else "", config.account.language, sources)


def template(config: Config, value: str) -> tuple[str, str] | None:
    """A template file's text and name ("" = the built-in one: None)."""
    if not value:
        return None
    path = config.resolve_path(value)
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateProblem(str(path), None, f"cannot read the template: {exc}") from None


def _may_copy(address: Address, config: Config) -> bool:
    return address.email not in config.account.addresses and not recipients.is_robot(
        address.email, address.name
    )
