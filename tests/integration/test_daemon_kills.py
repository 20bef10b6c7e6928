"""The real daemon SIGKILLed at random moments while invitations arrive (issue 17, item 1):
nothing lost, nothing sent twice but SPEC 5's identical resend, one sent copy each, every
calendar event declined once. `make stress` runs 200 kills over 20 invitations."""

from __future__ import annotations

import pytest

from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.kill_storm import kill_storm
from tests.testbed.radicale import Radicale
from tests.testbed.world import World

pytestmark = pytest.mark.servers


def test_twenty_kills_over_four_invitations(world: World, radicale: Radicale) -> None:
    """20 SIGKILLs at random moments while four invitations arrive; then run to the end."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    tally = kill_storm(cal, kills=20, invitations=4, seed=1)
    assert tally.invitations == 4 and tally.attempts >= 4
