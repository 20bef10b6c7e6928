"""The crash matrix for one process letter (SPEC 18, issue 25): `run --once` SIGKILLed
between the letter and its REPLY messages, then run to the end. A crash never splits the
letter into two and never declines an event twice."""

from __future__ import annotations

import pytest

from tests.testbed.process_crash import CASES, killed_then_finished
from tests.testbed.world import World

pytestmark = pytest.mark.servers


@pytest.mark.parametrize("point", CASES)
def test_killed_between_the_letter_and_its_replies(world: World, point: str) -> None:
    """SIGKILL at `point`, then passes to the end: one letter, one REPLY message per other
    interview, each event declined once, each message filed once, all withdrawn."""
    killed_then_finished(world, point)
