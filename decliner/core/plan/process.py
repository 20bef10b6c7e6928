"""Which invitations belong to one hiring process (SPEC 18), from plain data.

Invitations are one process when they are in one mail thread (a Message-ID of one is
in the other's References, or they share the message or the UID), or when they go to
the same recipient with the same company and role, an empty one matching any. That
last relation is not transitive ("Acme" matches both "Acme, Engineer" and "Acme,
Designer"), so it is applied with care: invitations whose company and role are both
known and equal are joined first; then a process with an empty value joins the
processes of that recipient it matches when they agree among themselves, so an
invitation that could belong to two different processes belongs to neither. A process's id is the id of its
earliest event (then the smallest id), stable while that event is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Member:
    """What grouping needs of one event: its id, start and UID, the Message-IDs of its
    thread, the recipient of a withdrawal ('' when none) and its role and company."""

    event_id: str
    start: datetime
    uid: str = ""
    thread: tuple[str, ...] = ()
    recipient: str = ""
    role: str = ""
    company: str = ""


class _Groups:
    """Union-find over event ids, each root keeping its members."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.parent = {i: i for i in ids}

    def root(self, item: str) -> str:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, a: str, b: str) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for item in self.parent:
            found.setdefault(self.root(item), []).append(item)
        return found


def processes(members: Iterable[Member]) -> dict[str, str]:
    """Each event id's process id (the id of the process's earliest event)."""
    by_id = {m.event_id: m for m in members}
    groups = _Groups(sorted(by_id))
    _join_threads(groups, by_id)
    _join_equal(groups, by_id)
    _join_the_one_match(groups, by_id)
    found: dict[str, str] = {}
    for ids in groups.members().values():
        first = min(ids, key=lambda i: (by_id[i].start, i))
        found.update(dict.fromkeys(ids, first))
    return found


def _join_threads(groups: _Groups, by_id: Mapping[str, Member]) -> None:
    owner: dict[str, str] = {}
    for member in sorted(by_id.values(), key=lambda m: m.event_id):
        keys = [f"uid:{member.uid}"] if member.uid else []
        keys += [f"msg:{m.strip().lower()}" for m in member.thread if m.strip()]
        for key in keys:
            if key in owner:
                groups.join(owner[key], member.event_id)
            else:
                owner[key] = member.event_id


def _join_equal(groups: _Groups, by_id: Mapping[str, Member]) -> None:
    first: dict[tuple[str, str, str], str] = {}
    for member in sorted(by_id.values(), key=lambda m: m.event_id):
        role, company = _fold(member.role), _fold(member.company)
        if member.recipient and role and company:
            key = (member.recipient.lower(), company, role)
            groups.join(first.setdefault(key, member.event_id), member.event_id)


@dataclass(frozen=True, slots=True)
class _Known:
    recipients: frozenset[str]
    roles: frozenset[str]
    companies: frozenset[str]

    def matches(self, other: _Known) -> bool:
        return bool(self.recipients & other.recipients) and all(
            not mine or not theirs or mine == theirs
            for mine, theirs in ((self.roles, other.roles), (self.companies, other.companies))
        )

    @property
    def complete(self) -> bool:
        return len(self.roles) == 1 and len(self.companies) == 1


def _known(ids: list[str], by_id: Mapping[str, Member]) -> _Known:
    members = [by_id[i] for i in ids]
    return _Known(
        frozenset(m.recipient.lower() for m in members if m.recipient),
        frozenset(_fold(m.role) for m in members if m.role.strip()),
        frozenset(_fold(m.company) for m in members if m.company.strip()),
    )


def _join_the_one_match(groups: _Groups, by_id: Mapping[str, Member]) -> None:
    changed = True
    while changed:
        changed = False
        known = {root: _known(ids, by_id) for root, ids in groups.members().items()}
        for root in sorted(known):
            mine = known[root]
            if mine.complete or not mine.recipients:
                continue
            matching = [r for r, other in known.items() if r != root and mine.matches(other)]
            together = (
                {v for r in matching for v in known[r].roles},
                {v for r in matching for v in known[r].companies},
            )
            if matching and all(len(values) <= 1 for values in together):
                for other in matching:
                    groups.join(root, other)
                changed = True
                break


def _fold(value: str) -> str:
    return " ".join(value.casefold().split())
