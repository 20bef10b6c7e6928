"""What the review page shows over the real test bed (Dovecot, aiosmtpd), read with a
plain HTTP client: what needs the user (an invitation with nobody to write to, a message
skipped with its reason, a letter the server refused with its reply), the invitations
grouped by hiring process with booking links as plain links, and that reading a page
changes nothing in the state db."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest

from decliner.config import load
from tests.testbed.big_mail import calendar, mail
from tests.testbed.mailfactory import google_invite
from tests.testbed.oauth import OAuthServer
from tests.testbed.signin import signin_config
from tests.testbed.webpage import db_dump, served
from tests.testbed.world import SOON, Clock, World, run_pass

pytestmark = pytest.mark.servers

BOOKING = "https://calendly.com/cancellations/0c1f2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b"


def test_what_needs_the_user(world: World) -> None:
    """The attention page lists the robot's invitation with nobody to write to, the
    calendar skipped as unreadable with the reason, and the withdrawal the server refused
    with its reply; the navigation counts the three; reading changed nothing, a bad
    recipient is refused, and flagging with a recipient takes the first off the list."""
    config = world.config()
    robot, _ = google_invite(
        organizer="calendar-notification@google.com",
        organizer_name="Hiring Robot",
        me=world.jane.address,
        uid="web-robot@google.com",
        start=SOON,
        summary="Onsite with nobody",
    )
    world.dovecot.append(world.jane, "INBOX", robot)
    world.dovecot.append(world.jane, "INBOX", mail("many", calendar("many", events=600)))
    world.invite("web-refused@google.com")  # flagged by keyword; grace 0
    world.smtp.plain.fail_next(550, "5.1.1 <sam> mailbox unavailable")
    run_pass(config, Clock(datetime.now(UTC)))
    with served(config) as page:
        before = db_dump(config)
        answer = page.get("/attention")
        assert answer.status == 200
        shown = html.unescape(answer.body)
        assert "Onsite with nobody" in shown
        assert "skipped an unreadable invitation" in shown
        assert "components, over the limit of 500" in shown
        assert "5.1.1 <sam> mailbox unavailable" in shown
        assert '<span class="badge">3</span>' in answer.body
        listing = html.unescape(page.get("/").body)
        assert "nobody found" in listing
        assert db_dump(config) == before
        robot_id = listing.split('href="/invite/')[1].split('"')[0]
        form = {"csrf_token": page.csrf, "to": "not an address", "reason": "", "scope": ""}
        headers = {"Cookie": page.cookie}
        refused = page.request("POST", f"/invite/{robot_id}/flag", headers=headers, form=form)
        assert refused.status == 400
        assert db_dump(config) == before
        form["to"] = "kim@example.com"
        done = page.request("POST", f"/invite/{robot_id}/flag", headers=headers, form=form)
        assert done.status == 303
        assert '<span class="badge">2</span>' in page.get("/attention").body


def test_invitations_grouped_by_process_with_plain_booking_links(world: World) -> None:
    """Two interviews with Sam at Acme are one process (one table, the soonest first), a
    third from another organizer another; a booking link is an <a> for the user to click
    (never fetched: the page makes no request of its own), opened without a referrer."""
    config = world.config(grace="5m")
    world.invite("web-p1@google.com", start=SOON + timedelta(days=2), flagged=False)
    world.invite("web-p2@google.com", start=SOON, flagged=False)
    other, _ = google_invite(
        organizer=world.jane.address.replace("jane", "kim"),
        organizer_name="Kim",
        me=world.jane.address,
        uid="web-p3@google.com",
        start=SOON + timedelta(days=1),
        summary=f"Interview. To cancel: {BOOKING}",
    )
    world.dovecot.append(world.jane, "INBOX", other)
    run_pass(config, Clock(datetime.now(UTC)))
    with served(config) as page:
        body = page.get("/").body
    sections = body.split('<section class="process"')[1:]
    assert len(sections) == 2
    sam = next(s for s in sections if world.sam.address in s)
    assert sam.count("<tr>") == 3  # the header row and two invitations
    assert f'<a href="{BOOKING}" rel="noreferrer noopener" target="_blank">cancel' in body


def test_a_sign_in_to_make_is_on_the_attention_page(
    world: World, oauth_server: OAuthServer
) -> None:
    """With `oauth2` in the config and no `decliner login` yet, the page says to sign in
    (and counts it), reading the token file only."""
    path = signin_config(
        world.tmp, world.dovecot, world.jane, oauth_server, smtp_port=world.smtp.plain.port
    )
    config = load(path)
    with served(config) as page:
        answer = page.get("/attention")
        shown = html.unescape(answer.body)
        assert "Sign-in needed" in shown
        assert "testidp: not signed in; sign in: decliner login" in shown
        assert '<span class="badge">1</span>' in answer.body
