"""The reference clients of `bench_wire`, each run as its own process and importing only
what it uses, so their start-up is as lean as a script's can be.

- raw-quiet: LOGIN, EXAMINE INBOX (its UIDNEXT and HIGHESTMODSEQ are what tells a client
  that nothing changed), LOGOUT: three commands, imaplib only;
- raw: LOGIN, EXAMINE, `FETCH n:m (UID BODYSTRUCTURE)` by sequence ranges (no SEARCH),
  IN_FLIGHT chunks pipelined in a sliding window, then for the calendar messages only: the header fields a judge
  needs and the calendar sections, one pipelined `UID FETCH` per distinct set of sections;
- naive: imapclient `BODY.PEEK[]` of every message, parsed with `email`.

`python -m bench.wire_clients raw|raw-quiet|naive PORT USER PASSWORD` prints the UIDs found.
"""

from __future__ import annotations

import imaplib
import json
import re
import sys
from collections import defaultdict, deque
from itertools import islice
from typing import Any

ME = "jane.doe@example.com"
ALIASES = ("jdoe@example.org",)
IN_FLIGHT = 4
CHUNK = 500
# What the judge reads of a calendar message's header (the same list decliner fetches).
HEADER_FIELDS = (
    "MESSAGE-ID SUBJECT FROM REPLY-TO DATE REFERENCES IN-REPLY-TO TO CC LIST-ID LIST-UNSUBSCRIBE"
    " PRECEDENCE"
)
_UIDNEXT = re.compile(rb"UIDNEXT (\d+)")


def raw_quiet(port: int, user: str, password: str) -> list[int]:
    """What a client must do to learn that nothing changed: UIDNEXT of the folder."""
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login(user, password)
    imap.select("INBOX", readonly=True)
    _, data = imap.response("OK")
    assert any(_UIDNEXT.search(d) for d in data if d), data
    imap.logout()
    return []


def raw(port: int, user: str, password: str) -> list[int]:
    """BODYSTRUCTURE of every message, pipelined, then only the calendar sections."""
    from imapclient.response_parser import parse_fetch_response

    from decliner.core.parse import bodystructure

    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login(user, password)
    _, data = imap.select("INBOX", readonly=True)
    exists = int(data[0] or 0)
    ranges = [f"{lo}:{min(lo + CHUNK - 1, exists)}" for lo in range(1, exists + 1, CHUNK)]
    by_sections: dict[tuple[str, ...], list[int]] = defaultdict(list)
    parts_of: dict[int, Any] = {}
    # A sliding window, as decliner's pipeline: the next range is asked for as soon as one
    # answer is in, before it is parsed, so the server works while the client parses.
    todo = iter(ranges)
    in_flight = deque(
        imap._command("FETCH", r, "(UID BODYSTRUCTURE)") for r in islice(todo, IN_FLIGHT)
    )
    while in_flight:
        imap._command_complete("FETCH", in_flight.popleft())
        _, fetched = imap._untagged_response("OK", [None], "FETCH")
        if (following := next(todo, None)) is not None:
            in_flight.append(imap._command("FETCH", following, "(UID BODYSTRUCTURE)"))
        for item in parse_fetch_response(fetched, uid_is_key=False).values():
            parts = bodystructure.calendar_parts(item[b"BODYSTRUCTURE"])
            if parts:
                uid = item[b"UID"]
                parts_of[uid] = parts
                by_sections[tuple(p.section for p in parts)].append(uid)
    tags = [
        imap._command(
            "UID",
            "FETCH",
            ",".join(map(str, uids)),
            f"(BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})] "
            + " ".join(f"BODY.PEEK[{s}]" for s in sections)
            + ")",
        )
        for sections, uids in by_sections.items()
    ]
    for tag in tags:
        imap._command_complete("FETCH", tag)
    _, fetched = imap._untagged_response("OK", [None], "FETCH")
    items = parse_fetch_response(fetched) if by_sections else {}
    imap.logout()
    return _judged(items, parts_of)


def _judged(items: dict[int, Any], parts_of: dict[int, Any]) -> list[int]:
    """The UIDs whose calendar parts decliner's judge takes for invitations."""
    from decliner.core.parse.invites import parse_parts
    from decliner.core.parse.mime import decode_part

    found = []
    for uid, item in items.items():
        headers = next(v for k, v in item.items() if k.startswith(b"BODY[HEADER"))
        decoded = [
            decode_part(
                item[f"BODY[{p.section}]".encode()], transfer_encoding=p.encoding, charset=p.charset
            )
            for p in parts_of[uid]
        ]
        if parse_parts(headers, decoded, me=(ME, *ALIASES), default_tz=_zone()):
            found.append(uid)
    return sorted(found)


def naive(port: int, user: str, password: str) -> list[int]:
    """imapclient, every message whole, parsed with `email`."""
    from imapclient import IMAPClient

    from decliner.core.parse.invites import parse_message

    found = []
    with IMAPClient("127.0.0.1", port, ssl=False) as client:
        client.login(user, password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        for start in range(0, len(uids), CHUNK):
            for uid, item in client.fetch(uids[start : start + CHUNK], ["BODY.PEEK[]"]).items():
                if parse_message(item[b"BODY[]"], me=(ME, *ALIASES), default_tz=_zone()):
                    found.append(uid)
    return sorted(found)


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


CLIENTS = {"raw": raw, "raw-quiet": raw_quiet, "naive": naive}

if __name__ == "__main__":
    client, port, user, password = sys.argv[1:5]
    print(json.dumps(CLIENTS[client](int(port), user, password)))
