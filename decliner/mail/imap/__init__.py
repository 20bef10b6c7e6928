"""The IMAP port: connect, secure, log in, and map library errors onto ours
(`connection`); the account as a MailSource (`source`); the incremental scan (`scan`),
its pipelined fetches (`pipeline`) and the IDLE watcher (`idle`).

Names are imported on first use, so that a quiet `run --once` can log in through
`connection` without loading the scan and what it parses with.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from decliner.mail.imap.connection import (
        USED_CAPABILITIES,
        Server,
        append_sent,
        connect,
        describe_server,
        endpoint_of,
        errors_named,
        has_message_id,
        mark_answered,
        open_client,
        remove_keyword,
        sent_folder,
        session,
    )
    from decliner.mail.imap.endpoint import Endpoint
    from decliner.mail.imap.source import ImapSource

__all__ = [
    "USED_CAPABILITIES",
    "Endpoint",
    "ImapSource",
    "Server",
    "append_sent",
    "connect",
    "describe_server",
    "endpoint_of",
    "errors_named",
    "has_message_id",
    "mark_answered",
    "open_client",
    "remove_keyword",
    "sent_folder",
    "session",
]


def __getattr__(name: str) -> Any:
    """Each exported name, from its module, imported the first time it is asked for."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = {"ImapSource": "source", "Endpoint": "endpoint"}.get(name, "connection")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
