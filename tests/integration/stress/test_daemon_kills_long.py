"""200 SIGKILLs of the real daemon at random moments during a 20-invitation workload
(`make stress`, issue 17 item 1): 0 lost, 0 stuck, 0 duplicate sent copies, duplicates
at the recruiter only as SPEC 5's identical resend."""

from __future__ import annotations

import pytest

from tests.testbed.calendar_world import CalendarWorld
from tests.testbed.kill_storm import kill_storm
from tests.testbed.radicale import Radicale
from tests.testbed.world import World

pytestmark = [pytest.mark.servers, pytest.mark.stress, pytest.mark.timeout(1800)]


def test_two_hundred_kills_over_twenty_invitations(world: World, radicale: Radicale) -> None:
    """200 kills, 20 invitations arriving among them, then the daemon to the end."""
    radicale.add_account(world.jane)
    cal = CalendarWorld(world, radicale, radicale.make_calendar(world.jane, "Work"))
    tally = kill_storm(cal, kills=200, invitations=20, seed=7)
    print(
        f"{tally.kills} kills, {tally.invitations} invitations: 0 lost, 0 stuck,"
        f" {tally.identical_resends} identical resends, {tally.attempts} attempts"
    )
