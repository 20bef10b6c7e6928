"""One incremental scan of the mail folders: new invitations, flag changes, expunges.

Per folder, a quiet pass costs one SELECT (plus one FLAGS fetch of the known
invites when the server lacks CONDSTORE). New messages are read in UID ranges:
BODYSTRUCTURE first (with In-Reply-To and References once we have sent mail), then
flags and headers of the calendar messages and possible replies, then only the
calendar parts.
Every folder's records and its new sync position are committed together, so
a pass cut short is simply done again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from decliner.config import Config, ImapConfig
from decliner.core.parse import bodystructure
from decliner.core.parse.mime import decode_body, decode_part
from decliner.core.parse.model import ParsedInvite
from decliner.core.parse.replies import THREADING_FIELDS, Reply
from decliner.mail.imap.pipeline import fetch_chunks
from decliner.mail.ingest import Progress, Recorder, ScanReport, chunked, repoint_orphans
from decliner.store import Store, mailbox
from decliner.store.mailbox import FolderState, StoredMessage

log = logging.getLogger(__name__)

HEADER_FIELDS = (
    "MESSAGE-ID SUBJECT FROM REPLY-TO DATE REFERENCES IN-REPLY-TO TO CC LIST-ID LIST-UNSUBSCRIBE"
    " PRECEDENCE"
)
UID_CHUNK = 500

__all__ = ["Progress", "ScanReport", "Scanner"]  # the first two live in `ingest`, for both sources


@dataclass(frozen=True)
class _Candidate:
    uid: int
    flags: tuple[bytes, ...]
    headers: bytes
    parts: list[bodystructure.Part]
    texts: list[bodystructure.Part]  # its text and HTML bodies, for booking links


class Scanner:
    """Reads the configured folders of one IMAP account into the state db."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        now: Callable[[], datetime],
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.imap = config.need_imap()
        self.store = store
        self.now = now
        self.progress = progress
        self.me = config.account.addresses
        self.recorder = Recorder(config, now=now)
        self.zone = config.account.zone

    def folders(self) -> list[str]:
        """The scanned folders and the flag folder, each once, in config order."""
        return watched(self.imap)

    def scan(self, client: IMAPClient, skip: Collection[str] = ()) -> ScanReport:
        """One pass over every folder but `skip` (one IDLE watches and has reported nothing);
        a folder that cannot be opened is skipped with a warning."""
        condstore = client.has_capability("CONDSTORE")  # enabled by imap.connect
        report = ScanReport()
        self.recorder.load_ours(self.store.connection)
        for name in self.folders():
            if name in skip:
                continue
            try:
                info = client.select_folder(name, readonly=True)
            except IMAPClientAbortError:
                raise  # the connection is gone, not the folder
            except IMAPClientError as exc:
                log.warning("folder %s: cannot open it, skipped: %s", name, exc)
                continue
            report.folders.append(name)
            self._scan_folder(client, name, info, condstore=condstore, report=report)
        return report

    def _scan_folder(
        self,
        client: IMAPClient,
        name: str,
        info: dict[bytes, Any],
        *,
        condstore: bool,
        report: ScanReport,
    ) -> None:
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info.get(b"UIDNEXT", 0))
        exists = int(info.get(b"EXISTS", 0))
        modseq = int(info[b"HIGHESTMODSEQ"]) if condstore and b"HIGHESTMODSEQ" in info else None
        stored = mailbox.folder(self.store.connection, name)
        if stored is not None and stored.uidvalidity != uidvalidity:
            log.warning("folder %s: UIDVALIDITY changed; reading it again from the start", name)
            with self.store.transaction() as conn:
                mailbox.forget_folder(conn, name)
            stored = None
        first_new = stored.uidnext if stored else 1
        if uidnext == 0:  # the server did not say; ask for everything from first_new on
            uidnext = max(client.search(["UID", f"{first_new}:*"]) or [first_new - 1]) + 1
        candidates, new_count, replies = self._read_new(
            client, name, first_new, uidnext - 1, first_scan=stored is None
        )
        report.new_messages += new_count
        # The stored calendar messages are read only when flags may have changed or
        # messages may be gone, so a quiet pass costs no row per known message.
        flags_moved = stored is not None and (modseq is None or modseq != stored.highestmodseq)
        counts_differ = stored is not None and exists != stored.exists_count + new_count
        known = (
            mailbox.messages(self.store.connection, name) if flags_moved or counts_differ else []
        )
        keywords = self._changed_keywords(client, stored, modseq, known) if stored else {}
        gone = self._expunged(client, stored, exists, new_count, known) if stored else []
        state = FolderState(name, uidvalidity, max(uidnext, first_new), modseq, exists)
        if state == stored and not (candidates or keywords or gone or replies):
            return  # a quiet pass writes nothing (and so costs no fsync)
        bodies = self._fetch_calendars(client, candidates)
        with self.store.transaction() as conn:
            for candidate in candidates:
                report.invites += self._record(conn, name, candidate, bodies, report)
            for uid, reply in replies:
                self.recorder.add_reply(conn, reply, name, uid, report)
            for uid, has_keyword in keywords.items():
                mailbox.set_keyword(conn, name, uid, keyword=has_keyword)
            if gone:
                mailbox.remove_messages(conn, name, gone)
            if gone or candidates:
                repoint_orphans(conn)  # an invite moved to another folder is followed there
            mailbox.save_folder(conn, state, self.now())

    def _read_new(
        self, client: IMAPClient, name: str, low: int, high: int, *, first_scan: bool
    ) -> tuple[list[_Candidate], int, list[tuple[int, Reply]]]:
        """The messages of UIDs low..high with calendars, and the replies to our mail.

        Every new message costs its BODYSTRUCTURE (and, once we have sent mail, its
        In-Reply-To and References); only the calendar messages and the possible replies
        then cost their flags and header fields."""
        if high < low:
            return [], 0, []
        # imapclient 4 drops FETCH results it cannot match to an explicit UID
        # list, so a range is first turned into its UIDs (one SEARCH).
        uids = sorted(u for u in client.search(["UID", f"{low}:{high}"]) if low <= u <= high)
        items = ["BODYSTRUCTURE"]
        if self.recorder.ours:
            items.append(f"BODY.PEEK[HEADER.FIELDS ({THREADING_FIELDS})]")
        structures: dict[int, tuple[list[bodystructure.Part], list[bodystructure.Part]]] = {}
        maybe_replies: set[int] = set()
        for done, (_, response) in enumerate(
            fetch_chunks(client, chunked(uids, UID_CHUNK), items), start=1
        ):
            for uid, data in response.items():
                structure = data.get(b"BODYSTRUCTURE") or ()
                if parts := bodystructure.calendar_parts(structure):
                    structures[uid] = (parts, bodystructure.text_parts(structure))
                if self.recorder.ours and self.recorder.may_reply(_headers(data)):
                    maybe_replies.add(uid)
            if self.progress and first_scan:
                self.progress(name, min(done * UID_CHUNK, len(uids)), len(uids))
        candidates: list[_Candidate] = []
        replies: list[tuple[int, Reply]] = []
        wanted = sorted({*structures, *maybe_replies})
        items = ["FLAGS", f"BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]"]
        for _, response in fetch_chunks(client, chunked(wanted, UID_CHUNK), items):
            for uid, data in sorted(response.items()):
                if uid in maybe_replies and (reply := self.recorder.reply_in(_headers(data))):
                    replies.append((uid, reply))
                if uid in structures:
                    parts, texts = structures[uid]
                    flags = tuple(data.get(b"FLAGS", ()))
                    candidates.append(_Candidate(uid, flags, _headers(data), parts, texts))
        return candidates, len(uids), replies

    def _fetch_calendars(
        self, client: IMAPClient, candidates: list[_Candidate]
    ) -> dict[tuple[int, str], bytes]:
        """The calendar parts' and text bodies, one FETCH per distinct section number."""
        wanted: dict[str, list[int]] = defaultdict(list)
        for candidate in candidates:
            for part in candidate.parts:
                if part.size <= bodystructure.FETCH_LIMIT:
                    wanted[part.section].append(candidate.uid)
            for part in candidate.texts:
                if candidate.uid not in wanted[part.section]:
                    wanted[part.section].append(candidate.uid)
        bodies: dict[tuple[int, str], bytes] = {}
        for section, uids in wanted.items():
            key = f"BODY[{section}]".encode()
            for _, response in fetch_chunks(
                client, chunked(uids, UID_CHUNK), [f"BODY.PEEK[{section}]"]
            ):
                for uid, data in response.items():
                    body = data.get(key)
                    if isinstance(body, bytes):
                        bodies[(uid, section)] = body
        return bodies

    def _record(
        self,
        conn: Any,
        folder: str,
        candidate: _Candidate,
        bodies: dict[tuple[int, str], bytes],
        report: ScanReport,
    ) -> int:
        """Parse one calendar message and merge its events; 1 if it was an invitation."""
        from decliner.core.parse.invites import parse_parts  # icalendar: only for new calendar mail

        decoded = [
            decode_part(
                bodies[(candidate.uid, p.section)], transfer_encoding=p.encoding, charset=p.charset
            )
            for p in candidate.parts
            if (candidate.uid, p.section) in bodies
        ]
        texts = [
            (
                p.mime_type.removeprefix("text/"),
                decode_body(
                    bodies[(candidate.uid, p.section)],
                    transfer_encoding=p.encoding,
                    charset=p.charset,
                ),
            )
            for p in candidate.texts
            if (candidate.uid, p.section) in bodies
        ]
        result = parse_parts(
            candidate.headers, decoded, me=self.me, default_tz=self.zone, bodies=texts
        )
        if not isinstance(result, ParsedInvite):
            fetched = {p.section for p in candidate.parts if (candidate.uid, p.section) in bodies}
            result = result or bodystructure.unread_parts(candidate.parts, fetched)
        return self.recorder.record(
            conn,
            folder,
            candidate.uid,
            result,
            keyword=self._has_keyword(candidate.flags),
            label=f"folder {folder} UID {candidate.uid}",
            report=report,
        )

    def _has_keyword(self, flags: Iterable[bytes | str]) -> bool:
        wanted = self.imap.flag_keyword.lower()
        return bool(wanted) and any(_text(f).lower() == wanted for f in flags)

    def _changed_keywords(
        self,
        client: IMAPClient,
        stored: FolderState | None,
        modseq: int | None,
        known: list[StoredMessage],
    ) -> dict[int, bool]:
        """The flag keyword of known calendar messages whose flags may have changed."""
        if not known or stored is None or stored.uidnext <= 1:
            return {}
        if modseq is not None and stored.highestmodseq is not None:
            if modseq == stored.highestmodseq:
                return {}
            response = client.fetch(
                [m.uid for m in known],
                ["FLAGS"],
                modifiers=[f"CHANGEDSINCE {stored.highestmodseq}"],
            )
        else:
            response = client.fetch([m.uid for m in known], ["FLAGS"])
        by_uid = {m.uid: m for m in known}
        return {
            uid: has
            for uid, data in response.items()
            if uid in by_uid
            and (has := self._has_keyword(data.get(b"FLAGS", ()))) != by_uid[uid].keyword
        }

    def _expunged(
        self,
        client: IMAPClient,
        stored: FolderState | None,
        exists: int,
        new_count: int,
        known: list[StoredMessage],
    ) -> list[int]:
        """Known calendar messages no longer in the folder, checked only when counts disagree."""
        if not known or stored is None or exists == stored.exists_count + new_count:
            return []
        present = set(client.search(["UID", ",".join(str(m.uid) for m in known)]))
        return [m.uid for m in known if m.uid not in present]


def watched(imap: ImapConfig) -> list[str]:
    """The folders a pass reads: `[imap].folders` and the flag folder, each once, in order."""
    names = [*imap.folders, imap.flag_folder]
    return list(dict.fromkeys(n for n in names if n))


def _headers(data: dict[bytes, Any]) -> bytes:
    for key, value in data.items():
        if key.startswith(b"BODY[HEADER") and isinstance(value, bytes):
            return value
    return b""


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
