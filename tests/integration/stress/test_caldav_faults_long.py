"""CalDAV faults at volume (`make stress`, issue 17 item 3): 50 declines driven through
random Radicale restarts, outages and 503 bursts, three seeds; each event declined once."""

from __future__ import annotations

import pytest

from tests.testbed.caldav_faults import calendar_storm
from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.radicale import Radicale
from tests.testbed.world import World

pytestmark = [pytest.mark.servers, pytest.mark.stress, pytest.mark.timeout(1800)]


@pytest.mark.parametrize("seed", range(3))
def test_fifty_updates_through_restarts_and_503_bursts(
    world: World, own_radicale: Radicale, seed: int
) -> None:
    """50 invitations in mail and calendar; faults before every pass: 50/50 declined once."""
    own_radicale.add_account(world.jane)
    cal = CalendarWorld(world, own_radicale, own_radicale.make_calendar(world.jane, "Work"))
    faults = calendar_storm(cal, 50, seed=seed, chaos=True)
    assert faults["retried"] > 0, faults
    print(f"50 calendar updates, seed {seed}: {faults}")
