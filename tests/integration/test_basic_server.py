"""Servers without IDLE or CONDSTORE: flags are still seen, by polling and plain FLAGS fetches."""

from __future__ import annotations

from pathlib import Path

import pytest

from decliner.service import listing, passes, wiring
from tests.testbed.daemon_harness import running
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config, sent_by
from tests.testbed.imap_inbox import NOW
from tests.testbed.mailfactory import google_invite
from tests.testbed.proxy import Proxy
from tests.testbed.smtpd import SmtpServers
from tests.testbed.world import SOON

pytestmark = pytest.mark.servers


def test_keyword_seen_without_condstore(
    tmp_path: Path, basic_dovecot: Dovecot, dovecot: Dovecot
) -> None:
    """Without CONDSTORE, a keyword set later is still found; a quiet pass stays constant-cost."""
    jane = basic_dovecot.add_account(dovecot.new_account("jane"))
    raw, _ = google_invite(
        organizer="sam@acme.example", organizer_name="Sam", me=jane.address, uid="b@g", start=SOON
    )
    uid = basic_dovecot.append(jane, "INBOX", raw)
    with Proxy(basic_dovecot.imap_port) as proxy:
        config = load_config(
            config_text(basic_dovecot, jane, tmp_path, imap_port=proxy.port), tmp_path
        )
        with wiring.open_store(config) as store:
            passes.scan(config, store)
            assert "ENABLE" not in proxy.commands
            basic_dovecot.set_keyword(jane, "INBOX", uid, "Decline")
            passes.scan(config, store)
            [view] = listing.invites(config, store, NOW, include_past=False)
            assert view.flagged_by == "keyword"
            proxy.reset()
            passes.scan(config, store)
    quiet = [c for c in proxy.commands if c not in {"CAPABILITY", "LOGIN", "LOGOUT"}]
    assert quiet == ["EXAMINE", "UID FETCH", "EXAMINE"], (
        quiet
    )  # one FLAGS fetch of the known invite


def test_daemon_polls_when_the_server_has_no_idle(
    tmp_path: Path, basic_dovecot: Dovecot, dovecot: Dovecot, smtp_servers: SmtpServers
) -> None:
    """No IDLE: the daemon says so and still acts on a keyword at the next poll."""
    jane = basic_dovecot.add_account(dovecot.new_account("jane"))
    sam = dovecot.new_account("sam")
    raw, _ = google_invite(
        organizer=sam.address, organizer_name="Sam", me=jane.address, uid="p@g", start=SOON
    )
    uid = basic_dovecot.append(jane, "INBOX", raw)
    text = config_text(
        basic_dovecot,
        jane,
        tmp_path,
        smtp_port=smtp_servers.plain.port,
        imap_extra='poll_interval = "1s"\n',
        extra='\n[withdrawal]\ngrace = "0"\n',
    )
    path = load_config(text, tmp_path).source
    with running(path, tmp_path) as (decliner, _listener):
        basic_dovecot.set_keyword(jane, "INBOX", uid, "Decline")  # after the first pass
        decliner.wait(lambda: len(sent_by(smtp_servers, jane)) == 1, "withdrawal")
    assert "the server has no IDLE" in decliner.output
