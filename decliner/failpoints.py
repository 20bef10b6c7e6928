"""Named moments where a test may have decliner killed (issue 17's crash matrix).

`DECLINER_FAILPOINT=<name>` makes the process SIGKILL itself when it reaches that moment,
exactly as an OOM killer or a power cut would: no cleanup, no flush beyond what is
already committed; `<name>#<n>` at its n-th time in the process (the REPLY messages of a
process letter pass the same moments after the letter). Unset (always, outside tests),
`hit` is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "scheduled",  # the withdrawal's outbox row exists, nothing rendered
    "rendered",  # its bytes and Message-ID are stored as pending, no attempt counted
    "attempt-begun",  # the attempt is counted, nothing sent to the SMTP server yet
    "smtp-accepted",  # the server said 250, the outcome not yet recorded
    "marked-sent",  # recorded as sent (and the follow-up and calendar row queued), no sent copy
    "copy-filed",  # the sent copy is appended, not yet recorded as filed
    "calendar-begun",  # the calendar row's attempt is counted, nothing asked of the server
)
# Moments of an OAuth2 sign-in (SPEC 17), outside a withdrawal's life.
SIGN_IN_POINTS = (
    "token-refreshed",  # the provider rotated the refresh token, the new one not yet stored
)


_seen: dict[str, int] = {}


def hit(name: str) -> None:
    """Die here if the environment names this moment (and this is its n-th time)."""
    wanted = os.environ.get("DECLINER_FAILPOINT")
    if not wanted:
        return
    point, _, count = wanted.partition("#")
    if point != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
