"""UID FETCH over many chunks with a few commands in flight on the one connection.

imapclient sends a command and waits for its end. On a cold Dovecot each chunk's
BODYSTRUCTURE costs the server more time than its parsing costs us, so a first scan
spent most of its wall time waiting. Keeping the next chunks queued (RFC 3501 5.5
allows pipelined FETCH) overlaps the server's work with ours; it stays one
connection, as SPEC 12 bounds them. imapclient has no pipelining API, so this
drives its imaplib connection with the same calls its own `fetch` makes.
"""

from __future__ import annotations

import contextlib
import imaplib
from collections import deque
from collections.abc import Generator, Iterable, Sequence
from itertools import islice
from typing import Any, cast

from imapclient import IMAPClient
from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

DEPTH = 4
"""Commands in flight: enough to keep Dovecot busy while we parse, few enough that
an abandoned scan leaves little to drain."""

Fetched = dict[int, dict[bytes, Any]]


def fetch_chunks(
    client: IMAPClient, chunks: Iterable[Sequence[int]], items: Sequence[str], depth: int = DEPTH
) -> Generator[tuple[Sequence[int], Fetched], None, None]:
    """Each chunk of UIDs with its FETCH results, in order, `depth` commands in flight.

    Results are matched to chunks by UID, not by arrival, so a server that interleaves
    pipelined responses is read correctly; unsolicited FETCHes for other UIDs are dropped,
    as imapclient's `fetch` drops them."""
    imap = cast("Any", client)._imap
    wanted = seq_to_parenstr_upper(items)
    todo = iter(chunks)
    in_flight: deque[tuple[str, Sequence[int]]] = deque()

    def send(chunk: Sequence[int]) -> None:
        tag = imap._command("UID", "FETCH", join_message_ids(chunk), wanted)
        in_flight.append((tag, chunk))

    arrived: Fetched = {}
    try:
        for chunk in islice(todo, depth):
            send(chunk)
        while in_flight:
            tag, chunk = in_flight.popleft()
            typ, data = imap._command_complete("FETCH", tag)
            cast("Any", client)._checkok("fetch", typ, data)
            _, data = imap._untagged_response(typ, data, "FETCH")
            if (following := next(todo, None)) is not None:
                send(following)  # before parsing, so the server works while we do
            for uid, item in parse_fetch_response(
                data, client.normalise_times, uid_is_key=True
            ).items():
                arrived.setdefault(uid, {}).update(item)
            yield chunk, {uid: arrived.pop(uid) for uid in chunk if uid in arrived}
    finally:
        _drain(imap, in_flight)


def _drain(imap: Any, in_flight: deque[tuple[str, Sequence[int]]]) -> None:
    """Read the answers of commands a stopped caller left in flight, so the connection
    stays in step for its next command; a broken connection is left to its owner."""
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        for tag, _ in in_flight:
            imap._command_complete("FETCH", tag)
        imap.untagged_responses.pop("FETCH", None)
