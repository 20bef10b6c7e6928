"""A local Maildir++ tree as the mail source (`source`), and the maildir transport for dry
runs (`transport`)."""

from decliner.mail.maildir.source import (
    CHUNK,
    MAX_HEADER_BYTES,
    MAX_MESSAGE_BYTES,
    MaildirSource,
    add_flag,
    check_tree,
    delivery_order,
    folder_path,
)

__all__ = [
    "CHUNK",
    "MAX_HEADER_BYTES",
    "MAX_MESSAGE_BYTES",
    "MaildirSource",
    "add_flag",
    "check_tree",
    "delivery_order",
    "folder_path",
]
