"""Fixtures for every test: the hypothesis profiles, and no secret in any log record."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

# No per-example deadline: it is wall-clock time, which a busy machine stretches, and tests
# assert behaviour, never speed. `make test` draws the same examples every run, so CI passes
# or fails on the code alone; `make stress` explores with fresh random ones, many more of them.
settings.register_profile("default", deadline=None, derandomize=True)
settings.register_profile("stress", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _no_canary_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test bed password contains CANARY: no log record of any test may show one."""
    caplog.set_level(logging.DEBUG, logger="decliner")
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    leaked = [
        r.getMessage()
        for r in records
        if "CANARY" in r.getMessage() or "CANARY" in (r.exc_text or "")
    ]
    assert not leaked, f"a secret reached the log: {leaked[:3]}"
