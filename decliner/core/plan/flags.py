"""Which events the user has flagged, and how (SPEC 2), from plain data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

from decliner.core.plan.events import EventRecord
from decliner.core.plan.naming import NOTHING, Found, with_given

FlagSource = str  # "config" | "keyword" | "folder" | "cli"
SOURCE_ORDER = ("cli", "config", "keyword", "folder")


@dataclass(frozen=True, slots=True)
class CancelRule:
    """A `[[cancel]]` table: every criterion given must match."""

    uid: str = ""
    summary: str = ""
    organizer: str = ""
    reason: str = ""
    to: str = ""
    language: str = ""
    scope: str = ""  # "process" | "interview" | "" (the config's)
    role: str = ""  # what the letter calls the position ("" = found in the invitation)
    company: str = ""  # the employer's name likewise

    def matches(self, event: EventRecord) -> bool:
        """Whether this rule names `event` (globs are case-insensitive)."""
        if not (self.uid or self.summary or self.organizer):
            return False
        if self.uid and self.uid != event.uid:
            return False
        if self.summary and not _glob(event.summary, self.summary):
            return False
        organizer = event.organizer.email if event.organizer else ""
        return not self.organizer or _glob(organizer, self.organizer)


@dataclass(frozen=True, slots=True)
class MessageFlag:
    """What one stored calendar message says about flags: its folder and keyword."""

    folder: str
    keyword: bool
    event_ids: tuple[str, ...]


def _glob(value: str, pattern: str) -> bool:
    return fnmatchcase(value.casefold(), pattern.casefold())


def flag_sources(
    events: Iterable[EventRecord],
    rule_of: Mapping[str, CancelRule],
    messages: Iterable[MessageFlag],
    cli_flags: Iterable[str],
    *,
    flag_folder: str,
) -> dict[str, list[FlagSource]]:
    """For each flagged event id, its flag sources in `SOURCE_ORDER` (`rule_of`: the events
    a `[[cancel]]` rule names, from `rules_by_event`)."""
    found: dict[str, set[str]] = {}
    known = {e.id for e in events}
    for eid in rule_of:
        if eid in known:
            found.setdefault(eid, set()).add("config")
    for message in messages:
        for eid in message.event_ids:
            if eid not in known:
                continue
            if message.keyword:
                found.setdefault(eid, set()).add("keyword")
            if flag_folder and message.folder == flag_folder:
                found.setdefault(eid, set()).add("folder")
    for eid in cli_flags:
        if eid in known:
            found.setdefault(eid, set()).add("cli")
    return {eid: [s for s in SOURCE_ORDER if s in sources] for eid, sources in found.items()}


def matching_rule(event: EventRecord, rules: Iterable[CancelRule]) -> CancelRule | None:
    """The first `[[cancel]]` rule naming `event` (its reason and `to` override the defaults)."""
    return next((rule for rule in rules if rule.matches(event)), None)


@dataclass(frozen=True, slots=True)
class Flag:
    """One reason an event is flagged, as stored (a derived one from when it was first seen)."""

    event_id: str
    source: str
    reason: str
    to: str
    first_seen: datetime
    scope: str = ""  # the CLI's `--scope`, `--role` and `--company`; "" when not given
    role: str = ""
    company: str = ""


FlagKey = tuple[str, str]  # (event id, source)


def derived_changes(
    stored: set[FlagKey], current: Mapping[str, list[str]]
) -> tuple[set[FlagKey], set[FlagKey]]:
    """(gone, new): the derived flags to delete and to add so the store matches `current`."""
    wanted = {
        (eid, source) for eid, sources in current.items() for source in sources if source != "cli"
    }
    return stored - wanted, wanted - stored


def with_derived(flags: list[Flag], current: Mapping[str, list[str]], now: datetime) -> list[Flag]:
    """The flags as storing `current` would leave them, computed without writing (SPEC 16:
    listings and previews never change the state db; only a pass starts a grace period)."""
    gone, new = derived_changes(
        {(f.event_id, f.source) for f in flags if f.source != "cli"}, current
    )
    kept = [f for f in flags if (f.event_id, f.source) not in gone]
    return kept + [Flag(eid, source, "", "", now) for eid, source in sorted(new)]


@dataclass(frozen=True, slots=True)
class Intent:
    """What the user asked for one flagged event: since when, why, to whom, in which
    language, for the interview or the whole process, and what to call it (`named`: the
    role and company given by `flag` or `[[cancel]]`, with where each was given)."""

    since: datetime
    reason: str
    to: str
    language: str = ""
    scope: str = ""
    named: Found = NOTHING


def intents(
    events: Iterable[EventRecord], flags: Iterable[Flag], rule_of: Mapping[str, CancelRule]
) -> dict[str, Intent]:
    """Each flagged event's intent: the earliest flag's time; the CLI's reason, `--to`,
    `--scope`, `--role` and `--company`, else the `[[cancel]]` rule's (`rule_of`: event id
    -> the first rule naming it)."""
    known = {e.id for e in events}
    found: dict[str, Intent] = {}
    for flag in flags:
        if flag.event_id not in known:
            continue
        rule = rule_of.get(flag.event_id) or CancelRule()
        had = found.get(flag.event_id) or Intent(
            flag.first_seen,
            "",
            "",
            named=with_given(NOTHING, role=rule.role, company=rule.company, source="[[cancel]]"),
        )
        named = with_given(had.named, role=flag.role, company=flag.company, source="flag")
        found[flag.event_id] = Intent(
            since=min(flag.first_seen, had.since),
            reason=flag.reason or had.reason or rule.reason,
            to=flag.to or had.to or rule.to,
            language=rule.language,
            scope=flag.scope or had.scope or rule.scope,
            named=named,
        )
    return found


def rules_by_event(
    events: Iterable[EventRecord], rules: Iterable[CancelRule]
) -> dict[str, CancelRule]:
    """The first `[[cancel]]` rule naming each event, matched once per pass."""
    rules = list(rules)
    return {e.id: rule for e in events if (rule := matching_rule(e, rules)) is not None}
