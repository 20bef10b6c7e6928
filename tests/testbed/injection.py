"""Header-injection payloads: the few the withdrawal tests send end to end, with which the
security tests' full list begins."""

from __future__ import annotations

INJECTIONS = [
    "Interview\r\nBcc: evil@attacker.example",
    "Interview\nX-Injected: yes",
    "Interview\u2028Bcc: evil@attacker.example",
    "Interview\x85Bcc: evil@attacker.example",
    "=?utf-8?q?Interview=0D=0ABcc=3A_evil=40attacker=2Eexample?=",
]
