"""The state database schema, as ordered migrations (index + 1 = schema version).

Everything decliner must remember across restarts lives here, so that a message
goes out at most once, ever (SPEC behaviour 5). Schema (version 1):

``meta(key PK, value)``
    ``schema_version`` = number of `MIGRATIONS` applied.
``folders(name PK, uidvalidity, uidnext, highestmodseq, exists_count, synced)``
    Per mail folder (IMAP; for Maildir see ``maildir_keys``): messages below
    ``uidnext`` have been read; a different ``uidvalidity`` means rescan.
    ``highestmodseq`` is NULL without CONDSTORE. ``exists_count`` is the
    message count at the last pass: a count that does not add up means
    something was expunged.
``messages(folder -> folders, uid, message_id, kind, event_ids, keyword, problem; PK(folder, uid))``
    Calendar messages already read (other mail is not recorded): ``kind`` is
    invite, cancel or rejected (malformed); ``event_ids`` a JSON array of the
    events it carries; ``keyword`` whether it has ``imap.flag_keyword``.
    Deleted with their folder row on a rescan.
``events(id PK, uid, recurrence_id, ...; UNIQUE(uid, recurrence_id))``
    One row per invitation instance. ``id`` is `event_id(uid, recurrence_id)`,
    the short id the CLI shows. ``recurrence_id`` is ``''`` (never NULL, since
    NULLs are distinct in UNIQUE) for a whole event. ``sequence``, ``summary``,
    ``starts_at``/``ends_at`` (``end`` is an SQL keyword), ``all_day``,
    ``location``, ``description``, ``rrule``, ``interview`` (looks like an
    interview), ``organizer_email/_name``, ``other_attendees`` (JSON array of
    {email, name}), ``invite_from_*``/``invite_reply_to_*`` (for the
    recipient), ``attendee_email`` (the user's address the invite named),
    ``invite_folder/_uid/_message_id/_subject/_references`` (what
    the withdrawal replies to), ``calendar`` (the raw VCALENDAR, for the iTIP
    REPLY), ``cancelled_by_organizer``, ``first_seen``, ``updated``. (Migration
    3 dropped ``recipient_email/_name`` and ``status``: derived, never stored.)
``flags(event_id -> events, source, reason, to_addr, first_seen; PK(event_id, source))``
    Why an event is flagged; ``source`` is config, keyword, folder or cli.
``outbox(id PK, event_id -> events, kind, message_id UNIQUE, ...; UNIQUE(event_id, kind))``
    Our messages. ``kind`` is withdrawal or followup, and UNIQUE(event_id, kind)
    is the "at most one of each per event, ever" guarantee: a cancelled row is
    revived by UPDATE, never replaced. ``state``: scheduled (waiting for
    ``due``; ``raw`` may be NULL) -> pending (``raw`` bytes and ``message_id``
    stored before the first attempt; ``due`` is the next try) -> sent | failed;
    scheduled -> cancelled. Triggers make ``sent`` final and the stored bytes and
    Message-ID immutable. ``to_addrs``/``cc_addrs`` are JSON arrays;
    ``in_reply_to``, ``refs`` (JSON References), ``subject``, ``attempts``
    (every try, committed before it starts), ``last_error``, ``last_attempt``,
    ``last_outcome`` (NULL while a try is in flight or was cut by a crash;
    temporary, permanent, cut after DATA, or sent), ``sent_at``,
    ``cancel_reason`` (unflagged, missed, cancelled_by_organizer, replied),
    ``copied`` (the copy in the sent folder exists), ``created``.
``thread(id PK, event_id -> events, message_id UNIQUE, in_reply_to, from_addr, to_addrs, cc_addrs, subject, date, folder, uid)``
    Inbound replies to our messages (the log's ``direction: "in"``).
``maildir_keys(folder -> folders, key, uid; PK(folder, key), UNIQUE(folder, uid))``
    With a ``[maildir]`` source: every message file read so far, by its
    Maildir key (the file name before ``:2,``, which stays when flags change),
    and the integer UID it was given, in increasing order from the folder's
    ``folders.uidnext``, so ``messages``, ``events.invite_uid`` and
    ``thread.uid`` work as with IMAP. A key not listed is new; a listed key
    whose file is gone was moved or deleted. (A Maildir folder's
    ``folders.uidvalidity`` is always 1: keys are unique for ever.)
``maildir_folders(name PK -> folders, new_mtime_ns, cur_mtime_ns)``
    The mtimes of a Maildir folder's ``new/`` and ``cur/`` when it was last
    listed completely: both unchanged means nothing arrived, left or was
    renamed, and the folder is skipped. NULL (a listing too close to a change
    to trust the clock's granularity) means list it again.

``calendars(url PK, name, sync_token, ctag, synced)`` (migration 4)
    Each CalDAV calendar collection read for invitations (SPEC 13): the RFC 6578
    sync token where the server gives one, else its CTag; either unchanged means
    nothing to fetch.
``calendar_objects(calendar -> calendars, href, etag, event_ids, problem; PK(calendar, href))``
    Every calendar object resource read, with the ETag it had, the events it
    carries, and why it could not be read ('' when it could).
Migration 4 also lets ``outbox.kind`` be ``calendar``: the update of the user's
own calendar once the withdrawal is sent, with ``action`` decline or delete, no
bytes or Message-ID, and ``to_addrs`` the calendar's URL once the event is found.

Migration 6 gives ``flags`` what `decliner flag` may say besides a reason and a
recipient: ``scope`` ('' = the config's, process or interview; SPEC 18), and ``role``
and ``company`` ('' = found in the invitation; SPEC 19). Only CLI flags fill them.

Migration 7 lets ``outbox.kind`` be ``decline``: the iTIP REPLY message to the
organizer of another interview that a process letter withdraws from (SPEC 18), and
gives each row ``covers``, the ids of those other interviews, stored with the
letter's bytes and as final as they are.

Migration 8 indexes the messages with the flag keyword, so a pass finds the flagged
events in as many rows as there are flags, whatever the number of known messages.

Migration 9 (its tables and triggers are `seal.py`'s) counts every change:
``changes(n)``, one row, raised by a trigger on each insert, update and delete in every
other table (``seal.WATCHED``), and keeps ``quiet_seal``: a pass that left nothing to do
stores there the ``n`` it saw, the digest of the config it validated and what a quiet
`run --once` needs to check the mailbox (``plan``, JSON, no secret). A later `run --once`
that finds the same ``n``, the same config and an unchanged mailbox ends without
validating the config or planning (`service/quiet_pass.py`).

Times are ISO 8601 UTC strings from `iso_utc`, so they compare as text.
"""

from __future__ import annotations

from decliner.store import seal

MIGRATIONS: list[str] = [
    # 1: the initial schema, described in the module docstring.
    """
    CREATE TABLE folders (
        name          TEXT PRIMARY KEY,
        uidvalidity   INTEGER,
        uidnext       INTEGER,
        highestmodseq INTEGER,
        exists_count  INTEGER,
        synced        TEXT
    );
    CREATE TABLE messages (
        folder     TEXT NOT NULL REFERENCES folders(name) ON DELETE CASCADE,
        uid        INTEGER NOT NULL,
        message_id TEXT,
        kind       TEXT NOT NULL DEFAULT 'invite' CHECK (kind IN ('invite', 'cancel', 'rejected')),
        event_ids  TEXT NOT NULL DEFAULT '[]',
        keyword    INTEGER NOT NULL DEFAULT 0 CHECK (keyword IN (0, 1)),
        PRIMARY KEY (folder, uid)
    );
    CREATE TABLE events (
        id                     TEXT PRIMARY KEY,
        uid                    TEXT NOT NULL,
        recurrence_id          TEXT NOT NULL DEFAULT '',
        sequence               INTEGER NOT NULL DEFAULT 0,
        summary                TEXT NOT NULL DEFAULT '',
        starts_at              TEXT NOT NULL,
        ends_at                TEXT,
        all_day                INTEGER NOT NULL DEFAULT 0 CHECK (all_day IN (0, 1)),
        location               TEXT,
        description            TEXT,
        rrule                  TEXT,
        interview              INTEGER NOT NULL DEFAULT 0 CHECK (interview IN (0, 1)),
        organizer_email        TEXT,
        organizer_name         TEXT,
        attendee_email         TEXT,
        other_attendees        TEXT NOT NULL DEFAULT '[]',
        invite_from_email      TEXT,
        invite_from_name       TEXT,
        invite_reply_to_email  TEXT,
        invite_reply_to_name   TEXT,
        recipient_email        TEXT,
        recipient_name         TEXT,
        invite_folder          TEXT,
        invite_uid             INTEGER,
        invite_message_id      TEXT,
        invite_subject         TEXT,
        invite_references      TEXT,
        calendar               TEXT NOT NULL,
        status                 TEXT NOT NULL DEFAULT 'upcoming' CHECK (status IN (
            'upcoming', 'flagged', 'withdrawn', 'confirmed', 'cancelled_by_organizer',
            'needs_recipient', 'past', 'missed')),
        cancelled_by_organizer INTEGER NOT NULL DEFAULT 0 CHECK (cancelled_by_organizer IN (0, 1)),
        first_seen             TEXT NOT NULL,
        updated                TEXT NOT NULL,
        UNIQUE (uid, recurrence_id)
    );
    CREATE TABLE flags (
        event_id   TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        source     TEXT NOT NULL CHECK (source IN ('config', 'keyword', 'folder', 'cli')),
        reason     TEXT,
        to_addr    TEXT,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (event_id, source)
    );
    CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        event_id     TEXT NOT NULL REFERENCES events(id),
        kind         TEXT NOT NULL CHECK (kind IN ('withdrawal', 'followup')),
        message_id   TEXT UNIQUE,
        in_reply_to  TEXT,
        to_addrs     TEXT NOT NULL DEFAULT '[]',
        cc_addrs     TEXT NOT NULL DEFAULT '[]',
        subject      TEXT NOT NULL DEFAULT '',
        raw          BLOB,
        state        TEXT NOT NULL CHECK (state IN (
            'scheduled', 'pending', 'sent', 'failed', 'cancelled')),
        due          TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        last_attempt TEXT,
        sent_at      TEXT,
        refs         TEXT NOT NULL DEFAULT '[]',
        last_outcome TEXT CHECK (last_outcome IN ('temporary', 'permanent', 'cut', 'sent')),
        cancel_reason TEXT,
        copied       INTEGER NOT NULL DEFAULT 0 CHECK (copied IN (0, 1)),
        created      TEXT NOT NULL,
        UNIQUE (event_id, kind),
        CHECK (state IN ('scheduled', 'cancelled') OR (raw IS NOT NULL AND message_id IS NOT NULL))
    );
    CREATE INDEX outbox_due ON outbox (state, due);
    CREATE TRIGGER outbox_sent_is_final BEFORE UPDATE ON outbox
    WHEN OLD.state = 'sent' AND NEW.state IS NOT 'sent'
    BEGIN SELECT RAISE(ABORT, 'outbox: a sent message stays sent'); END;
    CREATE TRIGGER outbox_sent_is_kept BEFORE DELETE ON outbox
    WHEN OLD.state IN ('pending', 'sent')
    BEGIN SELECT RAISE(ABORT, 'outbox: a pending or sent message is never deleted'); END;
    CREATE TRIGGER outbox_bytes_are_final BEFORE UPDATE OF raw, message_id ON outbox
    WHEN OLD.raw IS NOT NULL
         AND (NEW.raw IS NOT OLD.raw OR NEW.message_id IS NOT OLD.message_id)
    BEGIN SELECT RAISE(ABORT, 'outbox: stored bytes and Message-ID never change'); END;
    CREATE TABLE thread (
        id          INTEGER PRIMARY KEY,
        event_id    TEXT NOT NULL REFERENCES events(id),
        message_id  TEXT UNIQUE,
        in_reply_to TEXT,
        from_addr   TEXT,
        to_addrs    TEXT NOT NULL DEFAULT '[]',
        cc_addrs    TEXT NOT NULL DEFAULT '[]',
        subject     TEXT,
        date        TEXT,
        folder      TEXT,
        uid         INTEGER
    );
    CREATE INDEX thread_event ON thread (event_id);
    CREATE TABLE maildir_keys (
        folder TEXT NOT NULL REFERENCES folders(name) ON DELETE CASCADE,
        key    TEXT NOT NULL,
        uid    INTEGER NOT NULL,
        PRIMARY KEY (folder, key),
        UNIQUE (folder, uid)
    );
    CREATE TABLE maildir_folders (
        name         TEXT PRIMARY KEY REFERENCES folders(name) ON DELETE CASCADE,
        new_mtime_ns INTEGER,
        cur_mtime_ns INTEGER
    );
    """,
    # 2: why a calendar message could not be read, so `check` repeats the warning until the
    # message is gone ('' for one read well).
    """
    ALTER TABLE messages ADD COLUMN problem TEXT NOT NULL DEFAULT '';
    """,
    # 3: columns never read or written (a status is derived, never stored; the recipient is
    # resolved at each pass from the flags and the invitation).
    """
    ALTER TABLE events DROP COLUMN recipient_email;
    ALTER TABLE events DROP COLUMN recipient_name;
    ALTER TABLE events DROP COLUMN status;
    """,
    # 4: the user's own calendar (SPEC 13). The outbox is rebuilt (SQLite cannot alter a
    # CHECK) to take rows of kind 'calendar': no bytes or Message-ID, `action` says what is
    # done to the event (decline or delete), `to_addrs` holds the calendar's URL.
    """
    CREATE TABLE outbox_new (
        id           INTEGER PRIMARY KEY,
        event_id     TEXT NOT NULL REFERENCES events(id),
        kind         TEXT NOT NULL CHECK (kind IN ('withdrawal', 'followup', 'calendar')),
        message_id   TEXT UNIQUE,
        in_reply_to  TEXT,
        to_addrs     TEXT NOT NULL DEFAULT '[]',
        cc_addrs     TEXT NOT NULL DEFAULT '[]',
        subject      TEXT NOT NULL DEFAULT '',
        raw          BLOB,
        state        TEXT NOT NULL CHECK (state IN (
            'scheduled', 'pending', 'sent', 'failed', 'cancelled')),
        due          TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        last_attempt TEXT,
        sent_at      TEXT,
        refs         TEXT NOT NULL DEFAULT '[]',
        last_outcome TEXT CHECK (last_outcome IN ('temporary', 'permanent', 'cut', 'sent')),
        cancel_reason TEXT,
        copied       INTEGER NOT NULL DEFAULT 0 CHECK (copied IN (0, 1)),
        created      TEXT NOT NULL,
        action       TEXT CHECK (action IN ('decline', 'delete')),
        UNIQUE (event_id, kind),
        CHECK (state IN ('scheduled', 'cancelled') OR kind = 'calendar'
               OR (raw IS NOT NULL AND message_id IS NOT NULL)),
        CHECK ((kind = 'calendar') = (action IS NOT NULL))
    );
    INSERT INTO outbox_new (id, event_id, kind, message_id, in_reply_to, to_addrs, cc_addrs,
        subject, raw, state, due, attempts, last_error, last_attempt, sent_at, refs,
        last_outcome, cancel_reason, copied, created)
    SELECT id, event_id, kind, message_id, in_reply_to, to_addrs, cc_addrs, subject, raw, state,
        due, attempts, last_error, last_attempt, sent_at, refs, last_outcome, cancel_reason,
        copied, created FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_new RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (state, due);
    CREATE TRIGGER outbox_sent_is_final BEFORE UPDATE ON outbox
    WHEN OLD.state = 'sent' AND NEW.state IS NOT 'sent'
    BEGIN SELECT RAISE(ABORT, 'outbox: a sent message stays sent'); END;
    CREATE TRIGGER outbox_sent_is_kept BEFORE DELETE ON outbox
    WHEN OLD.state IN ('pending', 'sent')
    BEGIN SELECT RAISE(ABORT, 'outbox: a pending or sent message is never deleted'); END;
    CREATE TRIGGER outbox_bytes_are_final BEFORE UPDATE OF raw, message_id ON outbox
    WHEN OLD.raw IS NOT NULL
         AND (NEW.raw IS NOT OLD.raw OR NEW.message_id IS NOT OLD.message_id)
    BEGIN SELECT RAISE(ABORT, 'outbox: stored bytes and Message-ID never change'); END;
    CREATE TABLE calendars (
        url        TEXT PRIMARY KEY,
        name       TEXT NOT NULL DEFAULT '',
        sync_token TEXT,
        ctag       TEXT,
        synced     TEXT
    );
    CREATE TABLE calendar_objects (
        calendar  TEXT NOT NULL REFERENCES calendars(url) ON DELETE CASCADE,
        href      TEXT NOT NULL,
        etag      TEXT NOT NULL DEFAULT '',
        event_ids TEXT NOT NULL DEFAULT '[]',
        problem   TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (calendar, href)
    );
    """,
    # 5: invitations of kind static (METHOD:PUBLISH, SPEC 1), the booking links found in
    # them (SPEC 15, a JSON array of {action, url, tool}), and the start of the text body
    # (the "auto" language's second source, SPEC 14).
    """
    ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT 'request'
        CHECK (kind IN ('request', 'static'));
    ALTER TABLE events ADD COLUMN booking_links TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE events ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
    """,
    # 6: a CLI flag's --scope, --role and --company (SPEC 18, 19); '' = not given.
    """
    ALTER TABLE flags ADD COLUMN scope TEXT NOT NULL DEFAULT ''
        CHECK (scope IN ('', 'process', 'interview'));
    ALTER TABLE flags ADD COLUMN role TEXT NOT NULL DEFAULT '';
    ALTER TABLE flags ADD COLUMN company TEXT NOT NULL DEFAULT '';
    """,
    # 7: one letter per hiring process (SPEC 18). The outbox is rebuilt (SQLite cannot alter
    # a CHECK) to take rows of kind 'decline', the iTIP REPLY message to the organizer of
    # another interview a process letter withdraws from; `covers` holds, with a letter's
    # bytes, the ids of those other interviews (a JSON array), fixed like its words.
    """
    CREATE TABLE outbox_new (
        id           INTEGER PRIMARY KEY,
        event_id     TEXT NOT NULL REFERENCES events(id),
        kind         TEXT NOT NULL CHECK (kind IN ('withdrawal', 'followup', 'calendar', 'decline')),
        message_id   TEXT UNIQUE,
        in_reply_to  TEXT,
        to_addrs     TEXT NOT NULL DEFAULT '[]',
        cc_addrs     TEXT NOT NULL DEFAULT '[]',
        subject      TEXT NOT NULL DEFAULT '',
        raw          BLOB,
        state        TEXT NOT NULL CHECK (state IN (
            'scheduled', 'pending', 'sent', 'failed', 'cancelled')),
        due          TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        last_attempt TEXT,
        sent_at      TEXT,
        refs         TEXT NOT NULL DEFAULT '[]',
        last_outcome TEXT CHECK (last_outcome IN ('temporary', 'permanent', 'cut', 'sent')),
        cancel_reason TEXT,
        copied       INTEGER NOT NULL DEFAULT 0 CHECK (copied IN (0, 1)),
        created      TEXT NOT NULL,
        action       TEXT CHECK (action IN ('decline', 'delete')),
        covers       TEXT NOT NULL DEFAULT '[]',
        UNIQUE (event_id, kind),
        CHECK (state IN ('scheduled', 'cancelled') OR kind = 'calendar'
               OR (raw IS NOT NULL AND message_id IS NOT NULL)),
        CHECK ((kind = 'calendar') = (action IS NOT NULL))
    );
    INSERT INTO outbox_new (id, event_id, kind, message_id, in_reply_to, to_addrs, cc_addrs,
        subject, raw, state, due, attempts, last_error, last_attempt, sent_at, refs,
        last_outcome, cancel_reason, copied, created, action)
    SELECT id, event_id, kind, message_id, in_reply_to, to_addrs, cc_addrs, subject, raw, state,
        due, attempts, last_error, last_attempt, sent_at, refs, last_outcome, cancel_reason,
        copied, created, action FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_new RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (state, due);
    CREATE TRIGGER outbox_sent_is_final BEFORE UPDATE ON outbox
    WHEN OLD.state = 'sent' AND NEW.state IS NOT 'sent'
    BEGIN SELECT RAISE(ABORT, 'outbox: a sent message stays sent'); END;
    CREATE TRIGGER outbox_sent_is_kept BEFORE DELETE ON outbox
    WHEN OLD.state IN ('pending', 'sent')
    BEGIN SELECT RAISE(ABORT, 'outbox: a pending or sent message is never deleted'); END;
    CREATE TRIGGER outbox_bytes_are_final BEFORE UPDATE OF raw, message_id, covers ON outbox
    WHEN OLD.raw IS NOT NULL
         AND (NEW.raw IS NOT OLD.raw OR NEW.message_id IS NOT OLD.message_id
              OR NEW.covers IS NOT OLD.covers)
    BEGIN SELECT RAISE(ABORT, 'outbox: stored bytes and Message-ID never change'); END;
    """,
    # 8: the messages carrying the flag keyword, found without reading every message
    # (a pass plans only over the events it can act on; issue 28).
    """
    CREATE INDEX messages_keyword ON messages (keyword) WHERE keyword = 1;
    """,
    # 9: every change counted, and the seal of a pass that left nothing to do (issue 28).
    seal.MIGRATION,
]
