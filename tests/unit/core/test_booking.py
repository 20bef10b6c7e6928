"""Booking links: found in calendars, text and HTML, classified, never fetched (SPEC 15)."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decliner.core.parse import booking
from decliner.core.parse.booking import BookingLink, classify, in_calendar, in_html, in_text


@pytest.mark.parametrize(
    ("url", "words", "action", "tool"),
    [
        ("https://calendly.com/cancellations/AAAA-BBBB", "", "cancel", "Calendly"),
        ("https://calendly.com/reschedulings/AAAA-BBBB", "", "reschedule", "Calendly"),
        ("https://cal.com/booking/abc123?cancel=true", "", "cancel", "Cal.com"),
        ("https://app.cal.com/reschedule/abc123", "", "reschedule", "Cal.com"),
        ("https://cal.com/booking/abc123", "", "manage", "Cal.com"),
        (
            "https://outlook.office365.com/owa/calendar/x@acme.example/bookings/",
            "",
            "manage",
            "Microsoft Bookings",
        ),
        ("https://app.goodtime.io/x/y", "Termin absagen", "cancel", "GoodTime"),
        ("https://app.ashbyhq.com/x/y", "Reprogrammer l’entretien", "reschedule", "Ashby"),
        ("https://acme.example/i/7", "Annuleren", "cancel", "acme.example"),
        ("https://acme.example/i/7", "Reagendar", "reschedule", "acme.example"),
        ("https://acme.example/i/7", "Gestisci la prenotazione", "manage", "acme.example"),
        ("https://acme.example/interview/7/cancel", "", "cancel", "acme.example"),
        ("https://acme.example/x", "Need to cancel or reschedule?", "manage", "acme.example"),
    ],
)
def test_classified_by_url_shape_or_words(url: str, words: str, action: str, tool: str) -> None:
    """The tool's URL shape decides first, then the link's words in any of the seven
    languages, then the words in its path."""
    assert classify(url, words) == BookingLink(action, url, tool)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://zoom.us/j/123456789", "Join Zoom meeting"),
        ("https://meet.google.com/abc-defg-hij", "Join"),
        ("https://acme.example/careers", "Our open roles"),
        ("https://acme.example/unsubscribe?u=1", "Cancel your subscription"),
        ("https://acme.example/privacy", "Privacy policy"),
    ],
)
def test_other_links_are_not_booking_links(url: str, words: str) -> None:
    """Join links, homepages, unsubscribe and privacy links are left alone."""
    assert classify(url, words) is None


def test_text_links_take_the_words_around_them() -> None:
    """In plain text a URL is judged by its line and the line before, trailing punctuation
    dropped (cal.com's "Need to reschedule or cancel?" style)."""
    text = "Need to reschedule or cancel?\nhttps://acme.example/b/42.\nJoin: https://zoom.us/j/1"
    assert list(in_text(text)) == [
        BookingLink("manage", "https://acme.example/b/42", "acme.example")
    ]


def test_html_anchors_with_entities_and_images() -> None:
    """HTML is read with a parser: entities in hrefs are decoded, the link text (or an
    image's alt text) classifies it; markup in comments or scripts does not count."""
    html = (
        '<table><tr><td><a href="https://acme.example/b?id=1&amp;do=x">'
        "<b>Termin</b> verschieben</a></td>"
        '<td><a href="https://acme.example/c?id=1"><img alt="Cancel booking" src="x.png"></a></td>'
        "</tr></table><!-- <a href='https://evil.example/cancel'>Cancel</a> -->"
        "<script>var a = '<a href=\"https://evil.example/cancel\">Cancel</a>';</script>"
    )
    assert list(in_html(html)) == [
        BookingLink("reschedule", "https://acme.example/b?id=1&do=x", "acme.example"),
        BookingLink("cancel", "https://acme.example/c?id=1", "acme.example"),
    ]


def test_calendar_properties() -> None:
    """DESCRIPTION is read as text; URL and X- values by the property's name."""
    found = list(
        in_calendar(
            [
                ("DESCRIPTION", "Cancel: https://calendly.com/cancellations/A1"),
                ("URL", "https://calendly.com/reschedulings/A1"),
                ("X-BOOKING-CANCEL-URL", "https://acme.example/x/1"),
            ]
        )
    )
    assert [link.action for link in found] == ["cancel", "reschedule", "cancel"]
    assert booking.unique(found + found) == tuple(found)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to open a connection is recorded and refused."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    return attempts


def test_links_are_never_fetched(no_network: list[object]) -> None:
    """Finding and classifying links opens no connection: nothing leaves the process."""
    html = '<a href="https://calendly.com/cancellations/A1">Cancel</a>'
    assert list(in_html(html)) and list(in_text("Cancel: https://cal.com/booking/1?cancel=true"))
    assert no_network == []


@given(st.text(max_size=2000))
def test_any_text_or_html_is_read_without_error(text: str) -> None:
    """Junk never raises; every link found is http(s) with a known action."""
    for link in [*in_text(text), *in_html(text)]:
        assert link.url.startswith(("http://", "https://", "HTTP"))
        assert link.action in ("cancel", "reschedule", "manage")
