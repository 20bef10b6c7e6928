"""Which events the user has flagged, and how (SPEC 2), from plain data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from decliner.core.plan.events import EventRecord

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
    rules: Iterable[CancelRule],
    messages: Iterable[MessageFlag],
    cli_flags: Iterable[str],
    *,
    flag_folder: str,
) -> dict[str, list[FlagSource]]:
    """For each flagged event id, its flag sources in `SOURCE_ORDER`."""
    found: dict[str, set[str]] = {}
    known = {e.id: e for e in events}
    rules = list(rules)
    for event in known.values():
        if any(rule.matches(event) for rule in rules):
            found.setdefault(event.id, set()).add("config")
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
