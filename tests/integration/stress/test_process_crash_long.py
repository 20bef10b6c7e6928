"""The process-letter crash matrix at full count (`make stress`): `run --once` killed at
each moment of the letter and of both REPLY messages, 5 times each."""

from __future__ import annotations

import pytest

from tests.testbed.process_crash import LONG_CASES, killed_then_finished
from tests.testbed.world import World

pytestmark = [pytest.mark.servers, pytest.mark.stress]


@pytest.mark.parametrize("point", LONG_CASES)
@pytest.mark.parametrize("round_", range(5))
def test_killed_at_each_moment_of_a_process_letter(world: World, point: str, round_: int) -> None:
    """The quick process crash matrix at every moment and occurrence, repeated."""
    del round_  # the rounds only repeat the case
    killed_then_finished(world, point)
