"""CalDAV faults during calendar updates (issue 17, item 3): Radicale restarted, down, and
answering 503 bursts between passes; each event declined once. `make stress` runs 50."""

from __future__ import annotations

import pytest

from tests.testbed.caldav_faults import calendar_storm
from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.radicale import Radicale
from tests.testbed.world import World

pytestmark = pytest.mark.servers


@pytest.fixture
def own_cal(world: World, own_radicale: Radicale) -> CalendarWorld:
    """Jane's mailbox and her calendar "Work" on a Radicale the test may stop and start."""
    own_radicale.add_account(world.jane)
    return CalendarWorld(world, own_radicale, own_radicale.make_calendar(world.jane, "Work"))


def test_six_updates_through_restarts_and_503_bursts(own_cal: CalendarWorld) -> None:
    """Six declines driven through random restarts, outages and 503 bursts: each once."""
    faults = calendar_storm(own_cal, 6, seed=3, chaos=False)
    assert faults["retried"] > 0, faults  # the faults really hit updates, which then went once
