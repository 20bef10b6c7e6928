"""The crash matrix (issue 17, quick version): `run --once` SIGKILLed at each named moment
of a withdrawal's life (decliner/failpoints.py), then run again to the end. Counted at the
SMTP server by Message-ID, in the Sent folder, in the outbox, and in the user's calendar."""

from __future__ import annotations

from pathlib import Path

import pytest

from decliner.failpoints import POINTS, SIGN_IN_POINTS
from tests.testbed.crash_matrix import killed_then_finished
from tests.testbed.radicale import Radicale
from tests.testbed.world import World

pytestmark = pytest.mark.servers


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_each_moment_then_finished(world: World, radicale: Radicale, point: str) -> None:
    """SIGKILL at `point`, then passes to the end: exactly one withdrawal by Message-ID (two
    copies of it only after a kill between the 250 and its record), one sent copy, the
    follow-up queued, the calendar declined once, no row stuck."""
    killed_then_finished(world, radicale, point, daemon=False)


def test_every_named_moment_is_documented() -> None:
    """The failpoints are the moments docs/reliability.md lists."""
    text = (Path(__file__).parents[2] / "docs" / "reliability.md").read_text()
    assert all(f"`{point}`" in text for point in (*POINTS, *SIGN_IN_POINTS))
