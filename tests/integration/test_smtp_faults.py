"""The SMTP fault matrix (issue 17, SPEC 5): each server answer classified as SPEC says,
on the real aiosmtpd test server: a temporary failure waits and is sent once later, a
permanent one fails the row with the server's reply and nothing is sent again, and a cut
after the data is resent with the same Message-ID only after the sent folder is searched.
Also the connection's own faults: a 421 greeting, a 250 slower than [smtp].timeout, no
STARTTLS on offer, and certificates for the wrong host or expired (never AUTH in clear)."""

from __future__ import annotations

import email
import email.policy
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from decliner.config import Config
from decliner.core.plan.outbox import OutboxRow
from tests.testbed.certs import Flaw, FlawedCertFiles, make_flawed_certs
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.oauth import OAuthServer
from tests.testbed.smtpd import Security, SmtpServer, lmtp_deliverer
from tests.testbed.wait import wait_until
from tests.testbed.world import Clock, World, outbox, run_pass

pytestmark = pytest.mark.servers

CASES = [
    ("rcpt", 451, "pending", "temporary"),
    ("rcpt", 450, "pending", "temporary"),
    ("rcpt", 550, "failed", "permanent"),
    ("rcpt", 553, "failed", "permanent"),
    ("data", 421, "pending", "temporary"),
    ("data", 452, "pending", "temporary"),
    ("data", 552, "failed", "permanent"),
    ("data", 554, "failed", "permanent"),
    ("cut", 0, "pending", "cut"),
]


@pytest.mark.parametrize(("phase", "code", "state", "outcome"), CASES)
def test_each_answer_is_classified_and_never_sends_twice(
    world: World, phase: str, code: int, state: str, outcome: str
) -> None:
    """One fault, then the passes that follow: the right state and outcome after the fault,
    and in the end one withdrawal delivered (or none after a refusal), with one Message-ID."""
    world.invite(f"fault-{phase}-{code}@example.com")
    config = world.config()
    clock = Clock(datetime.now(UTC))
    if phase == "rcpt":
        world.smtp.plain.fail_rcpt_next(code, "fault under test")
    elif phase == "data":
        world.smtp.plain.fail_next(code, "fault under test")
    else:
        world.smtp.plain.cut_after_data_next()
    run_pass(config, clock)
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    assert (row.state, row.last_outcome, row.attempts) == (state, outcome, 1)
    if code:
        assert row.last_error is not None and row.last_error.startswith(str(code))
    for _ in range(3):
        clock.now += timedelta(hours=1)
        run_pass(config, clock)
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    got = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in world.dovecot.fetch_all(world.sam, "INBOX")
    ]
    if state == "failed":
        assert (row.state, row.attempts) == ("failed", 1)
        assert got == []
    else:
        assert (row.state, row.attempts) == ("sent", 2)
        assert [str(m["Message-ID"]) for m in got] == [row.message_id]


class StartSmtp(Protocol):
    def __call__(
        self, security: Security = "plain", certs: FlawedCertFiles | None = None
    ) -> SmtpServer: ...


@pytest.fixture
def start_smtp(dovecot: Dovecot, oauth_server: OAuthServer) -> Iterator[StartSmtp]:
    """A real aiosmtpd server of the test's own (its faults and command record are the test's
    alone), delivering to Dovecot; with `certs`, it serves that certificate."""
    started: list[SmtpServer] = []

    def start(security: Security = "plain", certs: FlawedCertFiles | None = None) -> SmtpServer:
        server = SmtpServer(
            security,
            password_of=dovecot.password_of,
            tokens=oauth_server.introspection(),
            deliver=lmtp_deliverer(dovecot.host, dovecot.lmtp_port),
            cert_file=str(certs.cert_file if certs else dovecot.cert_file),
            key_file=str(certs.key_file if certs else dovecot.key_file),
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.release_held()
        server.stop()


def smtp_config(
    world: World,
    server: SmtpServer,
    *,
    security: Security = "plain",
    ca_file: Path | None = None,
    timeout: str = "10s",
) -> Config:
    """Jane's config (no grace) sending through `server` with this security, CA and timeout."""
    text = config_text(
        world.dovecot,
        world.jane,
        world.tmp,
        smtp_port=server.port,
        smtp_timeout=timeout,
        extra='\n[withdrawal]\ngrace = "0"\n',
    )
    smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "plain"\n'
    assert text.count(smtp) == 1
    ca = f'ca_file = "{ca_file}"\n' if ca_file else ""
    return load_config(text.replace(smtp, f"{smtp.replace('plain', security)}{ca}"), world.tmp)


def withdrawal(config: Config) -> OutboxRow:
    """The one withdrawal row in the outbox."""
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    return row


def message_ids(raws: list[bytes]) -> list[str]:
    """The Message-ID of each raw message, in order."""
    return [
        str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
        for raw in raws
    ]


def later_passes(config: Config, clock: Clock, count: int = 3) -> None:
    """`count` passes an hour apart (past any retry backoff)."""
    for _ in range(count):
        clock.now += timedelta(hours=1)
        run_pass(config, clock)


def test_421_at_the_greeting_waits_and_is_sent_once_later(
    world: World, start_smtp: StartSmtp
) -> None:
    """A server that answers the connection with 421 instead of 220 (busy, throttling) is a
    temporary failure: pending with the reply, nothing sent, then sent once on a later pass."""
    server = start_smtp()
    server.refuse_greeting_next(421, "4.3.2 Too busy, try again later")
    world.invite("greeting-421@example.com")
    config = smtp_config(world, server)
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    row = withdrawal(config)
    assert (row.state, row.last_outcome, row.attempts) == ("pending", "temporary", 1)
    assert row.last_error == f"SMTP 127.0.0.1:{server.port}: 421 4.3.2 Too busy, try again later"
    assert (server.greetings_refused, server.commands, server.messages) == (1, [], [])
    later_passes(config, clock)
    row = withdrawal(config)
    assert (row.state, row.attempts) == ("sent", 2)
    assert [m.data for m in server.messages] == [row.raw]
    assert message_ids(world.dovecot.fetch_all(world.sam, "INBOX")) == [row.message_id]
    assert ("AUTH", False) in server.commands  # the record sees a login (used below)


@pytest.mark.parametrize("filed_by_provider", [False, True], ids=["not-filed", "filed"])
def test_250_slower_than_the_timeout_is_resent_only_after_searching_sent(
    world: World, start_smtp: StartSmtp, caplog: pytest.LogCaptureFixture, filed_by_provider: bool
) -> None:
    """The server takes the message but its 250 comes after [smtp].timeout (the end-of-DATA
    window): pending as "cut"; the next pass searches Sent and resends the same bytes only if
    the message is not there, so at most one Message-ID ever arrives (SPEC 5)."""
    server = start_smtp()
    world.invite(f"slow-250-{filed_by_provider}@example.com".lower())
    clock = Clock(datetime.now(UTC))
    server.hold_reply_after_data_next()
    config = smtp_config(world, server, timeout="1s")
    run_pass(config, clock)  # returns once the client gave up waiting for the 250
    wait_until(server.holding.is_set, "the server to hold back its 250")
    row = withdrawal(config)
    assert (row.state, row.last_outcome, row.attempts) == ("pending", "cut", 1)
    assert row.last_error is not None and "during DATA" in row.last_error
    assert "timed out" in row.last_error.lower()  # [smtp].timeout, not a dropped connection
    assert row.raw is not None
    assert [m.data for m in server.messages] == [row.raw]  # the server has the whole message
    server.release_held()  # the late 250 goes to a client that has hung up
    if filed_by_provider:  # as Gmail and others file what they relay
        world.dovecot.append(world.jane, "Sent", row.raw, flags=["\\Seen"])
    # The retry under a normal timeout: the fault under test is the first attempt only.
    config = smtp_config(world, server)
    later_passes(config, clock)
    row = withdrawal(config)
    assert row.state == "sent" and row.message_id is not None
    assert message_ids(world.dovecot.fetch_all(world.jane, "Sent")) == [row.message_id]
    delivered = message_ids(world.dovecot.fetch_all(world.sam, "INBOX"))
    if filed_by_provider:
        assert row.attempts == 1
        assert [m.data for m in server.messages] == [row.raw]
        assert delivered == [row.message_id]
        assert "was delivered by the cut attempt (found in the sent folder)" in caplog.text
        return
    # The one duplicate SPEC 5 allows: the very same bytes and Message-ID, counted and logged.
    assert row.attempts == 2
    assert [m.data for m in server.messages] == [row.raw, row.raw]
    assert delivered == [row.message_id, row.message_id]
    retries = [
        r.getMessage()
        for r in caplog.records
        if row.message_id in r.getMessage() and r.levelno == logging.WARNING
    ]
    assert len(retries) == 1 and "during DATA" in retries[0] and "will retry" in retries[0]
    result = world.cli("log", "--json")
    assert result.exit_code == 0, result.output
    [entry] = [e for e in json.loads(result.output) if e["kind"] == "withdrawal"]
    assert (entry["message_id"], entry["state"], entry["attempts"]) == (row.message_id, "sent", 2)


def assert_refused_before_auth(
    row: OutboxRow, server: SmtpServer, caplog: pytest.LogCaptureFixture, *reasons: str
) -> None:
    """Nothing sent, no AUTH (nor anything after EHLO/STARTTLS) at the server, the row still
    pending, and its error one line naming the server and the reason, with no traceback."""
    assert (row.state, row.last_outcome) == ("pending", "temporary")
    assert server.messages == []
    assert {verb for verb, _ in server.commands} <= {"EHLO", "STARTTLS", "QUIT"}
    assert row.last_error is not None and "\n" not in row.last_error
    assert row.last_error.startswith(f"SMTP 127.0.0.1:{server.port}: ")
    for reason in reasons:
        assert reason in row.last_error
    ours = [r for r in caplog.records if r.name.startswith("decliner")]  # not aiosmtpd's
    assert all(r.exc_info is None and "Traceback" not in r.getMessage() for r in ours)
    assert any(row.last_error in r.getMessage() for r in ours)  # told, not only stored


def test_starttls_not_offered_is_refused_without_auth_in_clear(
    world: World, start_smtp: StartSmtp, caplog: pytest.LogCaptureFixture
) -> None:
    """`security = "starttls"` against a server offering no STARTTLS (one that would even take
    AUTH in clear): refused at EHLO on every pass, never a silent downgrade, nothing sent."""
    server = start_smtp("plain")
    world.invite("no-starttls@example.com")
    config = smtp_config(world, server, security="starttls")
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    later_passes(config, clock, count=1)
    row = withdrawal(config)
    assert_refused_before_auth(row, server, caplog, "does not offer STARTTLS")
    assert row.attempts == 2
    assert server.commands.count(("EHLO", False)) == 2  # it did talk to the server, twice
    assert message_ids(world.dovecot.fetch_all(world.sam, "INBOX")) == []


@pytest.mark.parametrize("security", ["tls", "starttls"])
@pytest.mark.parametrize(
    ("flaw", "reason"),
    [("wrong-host", "IP address mismatch"), ("expired", "certificate has expired")],
)
def test_bad_certificate_is_a_tls_failure_before_auth(
    world: World,
    start_smtp: StartSmtp,
    caplog: pytest.LogCaptureFixture,
    security: Security,
    flaw: Flaw,
    reason: str,
) -> None:
    """A certificate for another host name, or one that has expired (from a CA the config
    trusts): refused as a TLS failure naming the server; no AUTH sent, nothing sent."""
    certs = make_flawed_certs(world.tmp / "certs", flaw)
    server = start_smtp(security, certs)
    world.invite(f"cert-{flaw}-{security}@example.com")
    config = smtp_config(world, server, security=security, ca_file=certs.ca_file)
    run_pass(config, Clock(datetime.now(UTC)))
    row = withdrawal(config)
    assert row.attempts == 1
    assert_refused_before_auth(row, server, caplog, "certificate verification failed", reason)
    if security == "starttls":  # the handshake was asked for in clear, and nothing came after
        assert server.commands[-1] == ("STARTTLS", False)
    else:
        assert server.commands == []
    assert message_ids(world.dovecot.fetch_all(world.sam, "INBOX")) == []
