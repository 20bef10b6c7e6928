"""The IMAP port: connect, secure, log in, and map library errors onto ours
(`connection`); the account as a MailSource (`source`); the incremental scan (`scan`),
its pipelined fetches (`pipeline`) and the IDLE watcher (`idle`)."""

from decliner.mail.imap.connection import (
    USED_CAPABILITIES,
    Server,
    append_sent,
    connect,
    describe_server,
    errors_named,
    has_message_id,
    mark_answered,
    remove_keyword,
    sent_folder,
    session,
)
from decliner.mail.imap.source import ImapSource

__all__ = [
    "USED_CAPABILITIES",
    "ImapSource",
    "Server",
    "append_sent",
    "connect",
    "describe_server",
    "errors_named",
    "has_message_id",
    "mark_answered",
    "remove_keyword",
    "sent_folder",
    "session",
]
