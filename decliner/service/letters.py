"""The letters of a pass: a planned `Letter` written out with the config's wording."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from decliner.config import Config
from decliner.core.letters.headers import RenderError, TemplateProblem
from decliner.core.letters.languages import Choice, choose
from decliner.core.parse.model import Address
from decliner.core.plan import recipient as recipients
from decliner.core.plan.actions import Letter
from decliner.core.plan.events import EventRecord
from decliner.core.plan.flags import matching_rule
from decliner.service.policy import cancel_rules

if TYPE_CHECKING:
    from decliner.core.letters.render import Rendered


def render(config: Config, me: Address, letter: Letter, *, now: datetime, token: str) -> Rendered:
    """The message `letter` describes, not yet stored; raises RenderError or TemplateProblem.
    The renderer, Jinja2 and icalendar, is imported here: a pass that sends nothing
    never loads it."""
    from decliner.core.letters.decline import render_decline
    from decliner.core.letters.render import render_followup, render_withdrawal

    event, to = letter.event, letter.recipient
    if to is None:
        raise RenderError(
            "no recipient: the organizer is you or a robot and the invite names no one else"
        )
    reason = letter.reason or config.withdrawal.reason
    language = language_of(config, letter.language_from or event, letter.language).language
    if letter.kind == "decline":
        return render_decline(
            event=event,
            me=me,
            recipient=to,
            reason=reason,
            now=now,
            zone=config.account.zone,
            token=token,
            language=language,
            named=letter.named,
        )
    if letter.kind == "withdrawal":
        return render_withdrawal(
            event=event,
            me=me,
            recipient=to,
            cc=[Address(a) for a in config.withdrawal.cc],
            reason=reason,
            offer_help=config.withdrawal.offer_help,
            keep_in_touch=config.withdrawal.keep_in_touch,
            short_notice=letter.short_notice,
            now=now,
            zone=config.account.zone,
            token=token,
            # A static calendar (PUBLISH) has no organizer to process a REPLY (SPEC 1).
            attach_decline=config.withdrawal.attach_decline and event.kind == "request",
            template=template(config, config.withdrawal.template),
            language=language,
            named=letter.named,
            scope=letter.scope,
            interviews=letter.interviews,
        )
    thread = letter.thread
    if thread is None:
        raise RenderError("the follow-up needs the withdrawal to be sent first")
    cc = (
        [a for a in event.other_attendees if _may_copy(a, config)]
        if config.followup.cc_attendees
        else []
    )
    return render_followup(
        event=event,
        me=me,
        recipient=to,
        cc=cc,
        in_reply_to=thread.in_reply_to,
        references=thread.references,
        withdrawal_date=thread.withdrawal_sent,
        withdrawal_subject=thread.withdrawal_subject,
        replied=thread.replied,
        now=now,
        zone=config.account.zone,
        token=token,
        template=template(config, config.followup.template),
        reason=reason,
        offer_help=config.withdrawal.offer_help,
        keep_in_touch=config.withdrawal.keep_in_touch,
        language=language,
        named=letter.named,
        scope=letter.scope,
        interviews=letter.interviews,
    )


def language_of(config: Config, event: EventRecord, rule_language: str) -> Choice:
    """The language of the letters about `event` (SPEC 14): the `[[cancel]]` rule's, else
    `account.language`; "auto" reads the invitation's description, then its text body, then
    its subject."""
    sources = [
        ("description", event.description),
        ("message's text", event.body_text),
        ("invitation's subject", event.invite.subject or event.summary),
    ]
    return choose(rule_language, config.account.language, sources)


def letter_language(config: Config, event: EventRecord) -> Choice:
    """`language_of` for one event outside a pass (`preview`, `check`): its rule matched here."""
    rule = matching_rule(event, cancel_rules(config))
    return language_of(config, event, rule.language if rule else "")


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
