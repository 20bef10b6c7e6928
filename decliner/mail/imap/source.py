"""The IMAP account as a `MailSource`: one logged-in connection and its scanner."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from imapclient import IMAPClient

from decliner.config import Config
from decliner.mail.imap.connection import (
    Server,
    append_sent,
    describe_server,
    endpoint_of,
    errors_named,
    has_message_id,
    mark_answered,
    remove_keyword,
    sent_folder,
)

if TYPE_CHECKING:
    from decliner.mail.imap.scan import Scanner
    from decliner.mail.ingest import ScanReport


class ImapSource:
    """The IMAP account as a `MailSource`, over one logged-in connection."""

    def __init__(self, config: Config, client: IMAPClient, scanner: Scanner) -> None:
        self.config = config
        self.client = client
        self.scanner = scanner
        self._server: Server | None = None

    def server(self) -> Server:
        """Capabilities and folders, asked once per connection."""
        if self._server is None:
            self._server = describe_server(self.client)
        return self._server

    def scan(self, skip: Collection[str] = ()) -> ScanReport:
        """An incremental pass over the configured folders but `skip`."""
        with errors_named(endpoint_of(self.config)):
            return self.scanner.scan(self.client, skip)

    def sent_folder(self) -> str | None:
        r"""`[imap].sent_folder`, else the server's `\Sent`; None for "none"."""
        return sent_folder(self.config, self.server())

    def has_message_id(self, folder: str, message_id: str) -> bool:
        """Search `folder` for a Message-ID."""
        with errors_named(endpoint_of(self.config)):
            return has_message_id(self.client, folder, message_id)

    def append_sent(self, folder: str, raw: bytes, when: datetime) -> None:
        r"""APPEND our bytes with `\Seen`."""
        with errors_named(endpoint_of(self.config)):
            append_sent(self.client, folder, raw, when)

    def mark_answered(self, folder: str, uid: int) -> None:
        r"""STORE +FLAGS `\Answered`."""
        with errors_named(endpoint_of(self.config)):
            mark_answered(self.client, folder, uid)

    def remove_keyword(self, folder: str, uids: Sequence[int], keyword: str) -> None:
        """STORE -FLAGS keyword."""
        with errors_named(endpoint_of(self.config)):
            remove_keyword(self.client, folder, list(uids), keyword)
