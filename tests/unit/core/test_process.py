"""One hiring process (SPEC 18): invitations grouped by thread, or by recipient, company and
role with an empty one matching any; over plain data and over the titles corpus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from decliner.core.parse.model import Address
from decliner.core.plan.naming import name_interview
from decliner.core.plan.process import Member, processes
from decliner.core.plan.recipient import resolve
from tests.testbed.titles import ME, cases, corpus_record

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def member(eid: str, day: int, **kwargs: Any) -> Member:
    return Member(event_id=eid, start=T0 + timedelta(days=day), **kwargs)


def groups(found: dict[str, str]) -> set[frozenset[str]]:
    by_process: dict[str, set[str]] = {}
    for eid, process in found.items():
        by_process.setdefault(process, set()).add(eid)
    return {frozenset(ids) for ids in by_process.values()}


def test_one_thread_is_one_process() -> None:
    """Invitations sharing a Message-ID in their References, or a UID, are one process,
    whoever they go to and whatever they are called."""
    found = processes(
        [
            member("a", 0, thread=("<m1@x>",), recipient="sam@acme.example", role="Engineer"),
            member("b", 3, thread=("<m2@x>", "<M1@x>"), recipient="ben@acme.example"),
            member("c", 5, uid="series-1", recipient="kim@other.example"),
            member("d", 1, uid="series-1", recipient="kim@other.example", role="Designer"),
            member("e", 2, thread=("<m9@x>",), recipient="zoe@else.example"),
        ]
    )
    assert groups(found) == {frozenset("ab"), frozenset("cd"), frozenset("e")}


def test_same_recipient_company_and_role() -> None:
    """The same recipient with the same company and role (any case) is one process; another
    role, company or recipient is another process."""
    found = processes(
        [
            member("a", 0, recipient="sam@acme.example", company="Acme", role="Engineer"),
            member("b", 4, recipient="SAM@acme.example", company="acme", role="engineer"),
            member("c", 2, recipient="sam@acme.example", company="Acme", role="Designer"),
            member("d", 1, recipient="kim@acme.example", company="Acme", role="Engineer"),
        ]
    )
    assert groups(found) == {frozenset("ab"), frozenset("c"), frozenset("d")}


def test_an_empty_one_matches_any_but_never_two_processes() -> None:
    """An invitation with no role (or company) joins the process of its recipient that
    matches it; when it could belong to two different ones it belongs to neither."""
    one = processes(
        [
            member("a", 0, recipient="sam@acme.example", company="Acme", role="Engineer"),
            member("b", 1, recipient="sam@acme.example", company="Acme"),
            member("c", 2, recipient="sam@acme.example", role="Engineer"),
            member("d", 3, recipient="sam@acme.example"),
        ]
    )
    assert groups(one) == {frozenset("abcd")}
    two = processes(
        [
            member("a", 0, recipient="sam@acme.example", company="Acme", role="Engineer"),
            member("b", 1, recipient="sam@acme.example", company="Acme"),
            member("c", 2, recipient="sam@acme.example", company="Acme", role="Designer"),
        ]
    )
    assert groups(two) == {frozenset("a"), frozenset("b"), frozenset("c")}


def test_no_recipient_groups_by_thread_only() -> None:
    """Without a recipient only a thread joins invitations."""
    found = processes([member("a", 0, company="Acme"), member("b", 1, company="Acme")])
    assert groups(found) == {frozenset("a"), frozenset("b")}


def test_the_process_id_is_its_earliest_event_and_stable() -> None:
    """A process is named by its earliest event, in any input order."""
    items = [
        member("zz", 0, recipient="sam@acme.example", company="Acme", role="Engineer"),
        member("aa", 2, recipient="sam@acme.example", company="Acme", role="Engineer"),
        member("mm", 1, recipient="sam@acme.example", company="Acme"),
    ]
    assert processes(items) == dict.fromkeys(["zz", "aa", "mm"], "zz")
    assert processes(reversed(items)) == processes(items)


def test_the_corpus_processes() -> None:
    """The titles corpus grouped from what the pure parser and the naming rule give: files
    with one process label share one id, files with different labels do not."""
    members, label = [], {}
    for case in cases():
        record = corpus_record(case["file"])
        named = name_interview(record, me_name="Jane Doe", me=ME)
        to: Address | None = resolve(record, ME)
        invite = record.invite
        members.append(
            Member(
                event_id=record.id,
                start=record.start,
                uid=record.uid,
                thread=(invite.message_id, *invite.references),
                recipient=to.email if to else "",
                role=named.role,
                company=named.company,
            )
        )
        label[record.id] = case["process"]
    found = processes(members)
    expected: dict[str, set[str]] = {}
    for eid, name in label.items():
        expected.setdefault(name, set()).add(eid)
    assert groups(found) == {frozenset(ids) for ids in expected.values()}
