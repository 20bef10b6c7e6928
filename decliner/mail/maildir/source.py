"""Local Maildir++ trees: the Maildir mail source, and the Maildir transport (dry runs, the demo).

The source reads a tree kept by mbsync, offlineimap or getmail through the
standard library's `mailbox.Maildir`: folder "X" is the ".X" subdirectory and
"INBOX" the top. Each message file is known by its key (the name before
``:2,``, which stays when a client renames the file to change its flags) and
given an integer UID in the state db, so the rest of decliner treats it like
an IMAP message. A pass stats each folder's ``new/`` and ``cur/``; only when
one changed does it list the folder, and it reads only keys it has not seen.

Flag changes are not read at all: the Maildir F ("flagged") flag means
"important" to its users and must never withdraw anyone. An invite is flagged
by being in the flag folder (a copy or a move), by `[[cancel]]` or the CLI.
"""

from __future__ import annotations

import logging
import mailbox
import os
import re
import sqlite3
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from decliner.config import Config
from decliner.core.parse.mime import may_hold_calendar, parse_headers
from decliner.core.parse.model import ParsedInvite, Rejected
from decliner.errors import RuntimeFailure
from decliner.mail.ingest import Progress, Recorder, ScanReport, chunked, repoint_orphans
from decliner.store import Store
from decliner.store import mailbox as mailbox_db
from decliner.store import maildir as maildir_db
from decliner.store.mailbox import FolderState

log = logging.getLogger(__name__)

Parse = Callable[[bytes], ParsedInvite | Rejected | None]
"""Reads the invitation in a whole message (`parse_message` with the account's addresses)."""

CHUNK = 500  # messages per transaction on a first scan, so progress survives a crash
MAX_MESSAGE_BYTES = 32 * 1024 * 1024  # larger files are only read for their headers
MAX_HEADER_BYTES = 256 * 1024
# A directory mtime this recent may yet be followed by a change within the same
# clock tick (coarse on many filesystems, 2 s on FAT); the folder is listed again.
SETTLE_NS = 2_100_000_000
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_DIGITS = re.compile(r"(\d+)")


def folder_path(root: Path, name: str) -> Path:
    """Where a folder lives in a Maildir++ tree: INBOX is the top, "A/B" is ".A.B"."""
    if name.upper() == "INBOX":
        return root
    return root / ("." + name.replace("/", "."))


def check_tree(root: Path, source: Path) -> None:
    """Raise a one-line `RuntimeFailure` naming `root` unless it is a readable directory."""
    try:
        is_dir = root.is_dir()
    except OSError as exc:
        raise RuntimeFailure(f"Maildir {root}: {exc.strerror}") from None
    if not is_dir:
        raise RuntimeFailure(f"Maildir {root}: no such directory ([maildir].path in {source})")
    if not os.access(root, os.R_OK | os.X_OK):
        raise RuntimeFailure(f"Maildir {root}: not readable")


class MaildirSource:
    """A local Maildir++ tree as a `MailSource`; `parse` is injectable for tests."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        now: Callable[[], datetime],
        progress: Progress | None = None,
        parse: Parse | None = None,
    ) -> None:
        self.config = config
        self.maildir = config.need_maildir()
        self.root = config.resolve_path(self.maildir.path)
        self.store = store
        self.now = now
        self.progress = progress
        self.recorder = Recorder(config, now=now)
        me, zone = config.account.addresses, config.account.zone
        self.parse: Parse = parse or (lambda raw: _parse_message(raw, me=me, default_tz=zone))

    def folders(self) -> list[str]:
        """The scanned folders and the flag folder, each once, in config order."""
        names = [*self.maildir.folders, self.maildir.flag_folder]
        return list(dict.fromkeys(n for n in names if n))

    def check_root(self) -> None:
        """Raise a one-line error naming the tree unless it is a readable directory."""
        check_tree(self.root, self.config.source)

    # -- reading ---------------------------------------------------------------

    def scan(self, skip: Collection[str] = ()) -> ScanReport:
        """One incremental pass (a Maildir has no IDLE, so `skip` is never given); a folder
        that cannot be read is skipped with a warning."""
        del skip
        self.check_root()
        report = ScanReport()
        self.recorder.load_ours(self.store.connection)
        changed = False
        for name in self.folders():
            path = folder_path(self.root, name)
            try:
                changed |= self._scan_folder(name, path, report)
            except (OSError, mailbox.Error) as exc:
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                log.warning("folder %s: cannot read %s, skipped: %s", name, path, why)
                continue
            report.folders.append(name)
        if changed:
            with self.store.transaction() as conn:
                repoint_orphans(conn)
        return report

    def _scan_folder(self, name: str, path: Path, report: ScanReport) -> bool:
        """Read the new files of one folder and forget the vanished; whether anything changed."""
        conn = self.store.connection
        stamp = ((path / "new").stat().st_mtime_ns, (path / "cur").stat().st_mtime_ns)
        if stamp == maildir_db.stamp(conn, name):
            return False  # nothing arrived, left or was renamed: a quiet pass writes nothing
        listed_at = time.time_ns()
        box = mailbox.Maildir(path, create=False)
        listed = set(box.keys())
        known = maildir_db.keys(conn, name)
        new = sorted(listed - known.keys(), key=delivery_order)
        gone = sorted(known.keys() - listed)
        state = mailbox_db.folder(conn, name)
        next_uid = state.uidnext if state else 1
        settled = listed_at - max(stamp) > SETTLE_NS
        if not (new or gone) and not settled:
            return False
        done = 0
        for chunk in chunked(new, CHUNK):
            read = [(key, raw) for key in chunk if (raw := self._read(box, name, key)) is not None]
            settled &= len(read) == len(chunk)  # a file vanished while listed: list again
            with self.store.transaction() as conn:
                uids = range(next_uid, next_uid + len(read))
                maildir_db.add_keys(conn, name, zip((k for k, _ in read), uids, strict=True))
                for (key, raw), uid in zip(read, uids, strict=True):
                    self._ingest(conn, name, key, uid, raw, report=report)
                next_uid += len(read)
                mailbox_db.save_folder(conn, FolderState(name, 1, next_uid, None, 0), self.now())
            report.new_messages += len(read)
            done += len(chunk)
            if self.progress and state is None:
                self.progress(name, done, len(new))
        with self.store.transaction() as conn:
            if gone:
                maildir_db.remove_keys(conn, name, gone)
                mailbox_db.remove_messages(conn, name, [known[k] for k in gone])
            count = len(maildir_db.keys(conn, name))
            mailbox_db.save_folder(conn, FolderState(name, 1, next_uid, None, count), self.now())
            maildir_db.save_stamp(conn, name, stamp if settled else None)
        return True

    def _read(self, box: mailbox.Maildir, name: str, key: str) -> bytes | None:
        """The file's bytes (at most `MAX_MESSAGE_BYTES` + 1); None if it vanished meanwhile."""
        try:
            with box.get_file(key) as handle:
                return handle.read(MAX_MESSAGE_BYTES + 1)
        except (KeyError, FileNotFoundError):
            return None  # moved or deleted since the listing; the next one will tell
        except OSError as exc:
            # Unreadable for good (permissions): known from now on as an empty message.
            log.warning("folder %s key %s: cannot read it, skipped: %s", name, key, exc.strerror)
            return b""

    def _ingest(
        self,
        conn: sqlite3.Connection,
        name: str,
        key: str,
        uid: int,
        raw: bytes,
        *,
        report: ScanReport,
    ) -> None:
        """Log a reply in its thread, and record an invitation, from one new file."""
        if reply := self.recorder.reply_in(_head(raw)):
            self.recorder.add_reply(conn, reply, name, uid, report)
        if not may_hold_calendar(raw):
            return
        if len(raw) > MAX_MESSAGE_BYTES:
            result: ParsedInvite | Rejected | None = Rejected(
                "too-large",
                f"a message with a calendar, larger than the {MAX_MESSAGE_BYTES >> 20} MiB"
                " limit for reading one",
            )
        else:
            try:
                result = self.parse(raw)
            except Exception as exc:  # noqa: BLE001 -- nothing in a message may stop a pass
                result = Rejected("malformed", f"{type(exc).__name__}: {exc}")
        report.invites += self.recorder.record(
            conn, name, uid, result, keyword=False, label=f"folder {name} key {key}", report=report
        )

    # -- writing ---------------------------------------------------------------

    def sent_folder(self) -> str | None:
        """`[maildir].sent_folder` ("Sent" by default); None for "none"."""
        return self.maildir.sent

    def has_message_id(self, folder: str, message_id: str) -> bool:
        """Whether any file of `folder` has this Message-ID (read header by header)."""
        try:
            box = mailbox.Maildir(folder_path(self.root, folder), create=False)
            keys = box.keys()
        except (mailbox.NoSuchMailboxError, OSError):
            return False
        wanted = message_id.encode("utf-8", "replace")
        for key in keys:
            try:
                with box.get_file(key) as handle:
                    head = _read_head(handle)
            except (KeyError, OSError):
                continue
            if wanted in head and parse_headers(head).message_id == message_id:
                return True
        return False

    def append_sent(self, folder: str, raw: bytes, when: datetime) -> None:
        """File our bytes in `folder`, seen (``cur/``, flag S), with LF line ends as Maildir keeps them."""
        path = folder_path(self.root, folder)
        try:
            box = mailbox.Maildir(path, create=False)
            key = box.add(raw.replace(b"\r\n", b"\n"))
            filed = add_flag(path, key, "S")
            if filed is not None:
                os.utime(filed, (when.timestamp(), when.timestamp()))
        except mailbox.NoSuchMailboxError:
            raise RuntimeFailure(
                f"Maildir folder {folder} ({path}) does not exist: create it, or set"
                ' [maildir].sent_folder (or "none")'
            ) from None
        except OSError as exc:
            raise RuntimeFailure(f"cannot file a sent copy in {path}: {exc.strerror}") from None

    def mark_answered(self, folder: str, uid: int) -> None:
        """Add the R ("replied") flag to the invite we answered, as a mail client would."""
        key = maildir_db.key_of(self.store.connection, folder, uid)
        if key is None:
            log.debug("folder %s UID %s is gone; not marking it answered", folder, uid)
            return
        try:
            add_flag(folder_path(self.root, folder), key, "R")
        except OSError as exc:
            log.warning("folder %s key %s: cannot mark it answered: %s", folder, key, exc.strerror)

    def remove_keyword(self, folder: str, uids: Sequence[int], keyword: str) -> None:
        """Nothing to do: a Maildir source never flags by keyword (the F flag means important)."""


def add_flag(path: Path, key: str, flag: str) -> Path | None:
    """Add `flag` to the info of `key`'s file, moving it to ``cur/``; its new path.

    Python 3.13 has `Maildir.add_flag`; until then this is the rename any client does.
    """
    for sub in ("new", "cur"):
        for entry in (path / sub).iterdir():
            base, colon, info = entry.name.partition(mailbox.Maildir.colon)
            if base != key:
                continue
            if colon and info and not info.startswith("2,"):
                return None  # experimental info semantics: leave the file alone
            flags = set(info[2:]) | {flag}
            target = path / "cur" / f"{key}{mailbox.Maildir.colon}2,{''.join(sorted(flags))}"
            if target != entry:
                entry.rename(target)
            return target
    return None


class _Lines(Protocol):
    def readline(self, size: int | None = ..., /) -> bytes: ...


def delivery_order(key: str) -> list[tuple[int, str]]:
    """Unique names begin with the delivery time, in unpadded numbers: compare those as numbers."""
    return [(int(p), "") if p.isdigit() else (-1, p) for p in _DIGITS.split(key) if p]


def _head(raw: bytes) -> bytes:
    """The header block of a message (all of it when there is no body)."""
    match = _BLANK_LINE.search(raw)
    return raw[: match.end()] if match else raw


def _read_head(handle: _Lines) -> bytes:
    lines = []
    size = 0
    for line in iter(handle.readline, b""):
        if line in (b"\n", b"\r\n") or size > MAX_HEADER_BYTES:
            break
        lines.append(line)
        size += len(line)
    return b"".join(lines)


def _parse_message(
    raw: bytes, *, me: Sequence[str], default_tz: ZoneInfo
) -> ParsedInvite | Rejected | None:
    """`parse_message`, imported on first use: a quiet pass reads no message and never
    loads icalendar."""
    from decliner.core.parse.invites import parse_message

    return parse_message(raw, me=me, default_tz=default_tz)
