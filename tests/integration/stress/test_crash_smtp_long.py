"""The crash matrix inside the SMTP conversation at full count (`make stress`): the real
daemon killed at each moment 25 times, then started again and left to finish."""

from __future__ import annotations

import pytest

from tests.testbed.smtp_kills import MOMENTS, killed_in_conversation
from tests.testbed.world import World

pytestmark = [pytest.mark.servers, pytest.mark.stress]


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("round_", range(25))
def test_killed_inside_the_conversation_25_times(world: World, moment: str, round_: int) -> None:
    """Each moment of the SMTP conversation, 25 kills of the daemon, each then finished."""
    del round_  # the rounds only repeat the case
    killed_in_conversation(world, moment, daemon=True)
