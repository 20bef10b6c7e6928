"""The crash matrix at full count (`make stress`): the real daemon killed at each named
moment, 25 times each, then started again and left to finish."""

from __future__ import annotations

import pytest

from decliner.failpoints import POINTS
from tests.testbed.crash_matrix import killed_then_finished
from tests.testbed.radicale import Radicale
from tests.testbed.world import World

pytestmark = [pytest.mark.servers, pytest.mark.stress]


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("round_", range(25))
def test_killed_at_each_moment_25_times(
    world: World, radicale: Radicale, point: str, round_: int
) -> None:
    """The quick crash-matrix check with the daemon, repeated: 25 kills at each moment."""
    del round_  # the rounds only repeat the case
    killed_then_finished(world, radicale, point, daemon=True)
