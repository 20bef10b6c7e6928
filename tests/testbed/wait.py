"""Waiting for an event, not for time: poll a condition under a ceiling only a failure reaches.

A busy machine stretches every step of a test (process start-up, a login, a
pass), so a test never sleeps "long enough" and never asserts how long
something took. It waits for the thing itself; the ceiling is generous and
only ends a wait for something that is not going to happen. pytest-timeout's
120 s per test (pyproject.toml) stays the outer bound, hence 60 s here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CEILING = 60.0
INTERVAL = 0.05  # how often a condition is looked at, not how long anything takes


def poll(condition: Callable[[], bool], ceiling: float = CEILING) -> bool:
    """Call `condition` until it holds (True) or `ceiling` seconds have passed (False)."""
    deadline = time.monotonic() + ceiling
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(INTERVAL)
    return True


def wait_until(condition: Callable[[], bool], what: str, ceiling: float = CEILING) -> None:
    """Return once `condition` holds; fail naming `what` if it has not after `ceiling` seconds."""
    if not poll(condition, ceiling):
        raise AssertionError(f"waited {ceiling:.0f} s for {what}; it did not happen")
