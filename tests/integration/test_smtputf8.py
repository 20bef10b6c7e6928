"""Addresses in any script (SPEC 20) end to end, on the real Dovecot and aiosmtpd: a
withdrawal to `josé@empresa.es` goes with SMTPUTF8 when the server offers it, exactly once and
unmangled; a server without it gets nothing, and the row fails naming SMTPUTF8 and the address.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from decliner.config import Config
from decliner.core.plan.outbox import OutboxRow
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.mailfactory import google_invite
from tests.testbed.oauth import OAuthServer
from tests.testbed.smtpd import SmtpServer, lmtp_deliverer
from tests.testbed.world import SOON, Clock, World, outbox, run_pass

pytestmark = pytest.mark.servers

JOSE = "josé@empresa.es"


@pytest.fixture
def start_smtp(
    dovecot: Dovecot, oauth_server: OAuthServer
) -> Iterator[Callable[[bool], SmtpServer]]:
    """A real aiosmtpd server of the test's own, offering SMTPUTF8 or not."""
    started: list[SmtpServer] = []

    def start(smtputf8: bool) -> SmtpServer:
        server = SmtpServer(
            "plain",
            password_of=dovecot.password_of,
            tokens=oauth_server.introspection(),
            deliver=lmtp_deliverer(dovecot.host, dovecot.lmtp_port),
            cert_file=str(dovecot.cert_file),
            key_file=str(dovecot.key_file),
            smtputf8=smtputf8,
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def invite_from_jose(world: World, uid: str) -> str:
    """José's invitation to Jane (raw UTF-8 headers, ORGANIZER mailto:josé@...), flagged in
    her INBOX; its Message-ID."""
    raw, message_id = google_invite(
        organizer=JOSE, organizer_name="José Pérez", me=world.jane.address, uid=uid, start=SOON
    )
    world.dovecot.append(world.jane, "INBOX", raw, keywords=["Decline"])
    return message_id


def config_for(world: World, server: SmtpServer) -> Config:
    """Jane's config (no grace) sending through `server`."""
    text = config_text(
        world.dovecot,
        world.jane,
        world.tmp,
        smtp_port=server.port,
        extra='\n[withdrawal]\ngrace = "0"\n',
    )
    return load_config(text, world.tmp)


def withdrawal(config: Config) -> OutboxRow:
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    return row


def later_passes(config: Config, clock: Clock) -> None:
    for _ in range(3):
        clock.now += timedelta(hours=1)
        run_pass(config, clock)


def test_a_server_with_smtputf8_takes_the_withdrawal_to_jose_once(
    world: World, start_smtp: Callable[[bool], SmtpServer]
) -> None:
    """The organizer `josé@empresa.es` gets one withdrawal: MAIL FROM carries SMTPUTF8, RCPT TO
    and the To header name him as written, the server got the stored bytes, and the row is
    sent; later passes send nothing more."""
    server = start_smtp(True)
    invite_id = invite_from_jose(world, "utf8-ok@example")
    config = config_for(world, server)
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    row = withdrawal(config)
    assert (row.state, row.last_outcome, row.attempts) == ("sent", "sent", 1)
    assert (row.to, row.cc) == ((JOSE,), ())
    [got] = server.messages
    assert "SMTPUTF8" in got.mail_options
    assert (got.mail_from, got.rcpt_tos) == (world.jane.address, (JOSE,))
    assert got.data == row.raw
    assert f"\r\nTo: José Pérez <{JOSE}>\r\n".encode() in got.data
    message = email.message_from_bytes(got.data, policy=email.policy.default)
    assert str(message["To"]) == f"José Pérez <{JOSE}>"
    assert message["In-Reply-To"] == invite_id
    later_passes(config, clock)
    assert len(server.messages) == 1
    assert withdrawal(config).state == "sent"


def test_a_server_without_smtputf8_gets_nothing_and_the_row_fails(
    world: World, start_smtp: Callable[[bool], SmtpServer]
) -> None:
    """A server that does not offer SMTPUTF8 is never given the message (no MAIL command, no
    garbled address): the row is `failed`, permanent, its error names SMTPUTF8 and the
    address; later passes do not try again."""
    server = start_smtp(False)
    invite_from_jose(world, "utf8-refused@example")
    config = config_for(world, server)
    clock = Clock(datetime.now(UTC))
    run_pass(config, clock)
    row = withdrawal(config)
    assert (row.state, row.last_outcome, row.attempts) == ("failed", "permanent", 1)
    assert row.last_error == (
        f"SMTP 127.0.0.1:{server.port} does not offer SMTPUTF8, which the address {JOSE}"
        " needs (RFC 6531); not sent"
    )
    assert server.messages == []
    assert "MAIL" not in [verb for verb, _tls in server.commands]
    later_passes(config, clock)
    assert (withdrawal(config).state, withdrawal(config).attempts) == ("failed", 1)
    assert server.messages == []


def test_flag_to_jose_on_the_cli_sends_to_him(world: World) -> None:
    """`flag ID --to josé@empresa.es` on Sam's invitation is accepted, and `run --once` sends
    the withdrawal to José (with SMTPUTF8), not to Sam."""
    world.invite("utf8-flag@example", flagged=False)
    world.config()
    assert world.cli("invites", "--json").exit_code == 0
    [row] = json.loads(world.cli("invites", "--json", "--cached").stdout)
    flagged = world.cli("flag", row["id"], "--to", JOSE)
    assert flagged.exit_code == 0, flagged.output
    result = world.cli("run", "--once")
    assert result.exit_code == 0, result.output
    [got] = [m for m in world.smtp.plain.messages if JOSE in m.rcpt_tos]
    assert got.rcpt_tos == (JOSE,)
    assert "SMTPUTF8" in got.mail_options
    assert world.received(world.sam) == []
