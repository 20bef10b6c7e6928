"""Proves the Radicale (CalDAV) test bed works, over plain HTTP and TLS, with the caldav library."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from caldav.collection import Calendar, SynchronizableCalendarObjectCollection
from caldav.davclient import DAVClient
from caldav.lib.error import AuthorizationError

from tests.testbed.dovecot import Account
from tests.testbed.radicale import Radicale

pytestmark = pytest.mark.servers


def _event(uid: str, summary: str = "Interview with ACME") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//decliner tests//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20250101T090000Z\r\n"
        f"DTSTART:20250110T140000Z\r\nDTEND:20250110T150000Z\r\nSUMMARY:{summary}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def _client(server: Radicale, account: Account, ca_file: Path | None = None) -> DAVClient:
    return DAVClient(
        url=server.url,
        username=account.username,
        password=account.password,
        ssl_verify_cert=str(ca_file or server.ca_file),
        timeout=30,
    )


def _calendars(client: DAVClient) -> list[Calendar]:
    calendars = client.get_principal().get_calendars()
    assert isinstance(calendars, list)  # the sync client's half of caldav's sync/async union
    return calendars


def _round_trip(server: Radicale) -> None:
    account = server.new_account()
    calendar_url = server.make_calendar(account, "Work")
    server.put_event(account, calendar_url, "interview.ics", _event("round-trip@corp.example"))
    etag, text = server.get(account, calendar_url + "interview.ics")
    assert etag
    assert "UID:round-trip@corp.example" in text
    with _client(server, account) as client:
        names = [c.get_display_name() for c in _calendars(client)]
    assert names == ["Work"]


def test_round_trip_over_plain_http(radicale: Radicale) -> None:
    """A new account's calendar and event are written and read back, also seen by caldav."""
    assert radicale.url.startswith("http://127.0.0.1:")
    _round_trip(radicale)


def test_round_trip_over_tls_verifies_the_test_ca(radicale_tls: Radicale) -> None:
    """TLS works when verified with the bed CA and fails with an unrelated CA."""
    assert radicale_tls.url.startswith("https://127.0.0.1:")
    _round_trip(radicale_tls)
    account = radicale_tls.new_account()
    with pytest.raises(ssl.SSLCertVerificationError):
        radicale_tls.request(
            account, "PROPFIND", radicale_tls.url, depth="0", ca_file=radicale_tls.other_ca_file
        )
    with (
        pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"),
        _client(radicale_tls, account, radicale_tls.other_ca_file) as client,
    ):
        client.get_principal()


def test_wrong_password_is_refused(radicale: Radicale) -> None:
    """A wrong password gets 401, and caldav raises AuthorizationError."""
    account = radicale.new_account()
    impostor = Account(account.username, "wrong-CANARY")
    assert radicale.request(impostor, "PROPFIND", radicale.url, depth="0").status == 401
    with pytest.raises(AuthorizationError), _client(radicale, impostor) as client:
        client.get_principal()


def test_sync_collection_reports_changes(radicale: Radicale) -> None:
    """sync-collection (RFC 6578) gives a real token, and then only what changed since it."""
    account = radicale.new_account()
    calendar_url = radicale.make_calendar(account, "Interviews")
    radicale.put_event(account, calendar_url, "first.ics", _event("first@corp.example"))
    with _client(radicale, account) as client:
        (calendar,) = _calendars(client)
        initial = calendar.get_objects_by_sync_token(disable_fallback=True)
        assert isinstance(initial, SynchronizableCalendarObjectCollection)
        assert initial.sync_token
        assert not str(initial.sync_token).startswith("fake-")
        assert [str(o.url).rsplit("/", 1)[1] for o in initial] == ["first.ics"]
        radicale.put_event(account, calendar_url, "second.ics", _event("second@corp.example"))
        delta = calendar.get_objects_by_sync_token(initial.sync_token, disable_fallback=True)
        assert isinstance(delta, SynchronizableCalendarObjectCollection)
    assert [str(o.url).rsplit("/", 1)[1] for o in delta] == ["second.ics"]
    assert delta.sync_token != initial.sync_token


def test_restart_keeps_port_users_and_data(own_radicale: Radicale) -> None:
    """While stopped, connections are refused; started again, the same URL serves the same data."""
    account = own_radicale.new_account()
    calendar_url = own_radicale.make_calendar(account, "Work")
    own_radicale.put_event(account, calendar_url, "kept.ics", _event("kept@corp.example"))
    before = own_radicale.get(account, calendar_url + "kept.ics")
    url = own_radicale.url
    own_radicale.stop_serving()
    with pytest.raises(ConnectionRefusedError):
        own_radicale.request(account, "PROPFIND", url, depth="0")
    own_radicale.start_again()
    assert own_radicale.url == url
    assert own_radicale.get(account, calendar_url + "kept.ics") == before
