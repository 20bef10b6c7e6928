"""The crash matrix at full count (`make stress`): each named moment, 25 times."""

from __future__ import annotations

import pytest

from decliner.failpoints import POINTS
from tests.test_crash_matrix import test_killed_at_each_moment_then_finished as one_kill
from tests.testbed.radicale import Radicale
from tests.world import World

pytestmark = [pytest.mark.servers, pytest.mark.stress]


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("round_", range(25))
def test_killed_at_each_moment_25_times(
    world: World, radicale: Radicale, point: str, round_: int
) -> None:
    """The quick crash-matrix check, repeated: 25 kills at each moment, each then finished."""
    del round_  # the rounds only repeat the case
    one_kill(world, radicale, point)
