"""The daemon's quiet poll (SPEC 12, issue 16): timer passes leave the IDLE folder to IDLE."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testbed.daemon_harness import running
from tests.testbed.helpers import config_text, load_config
from tests.testbed.proxy import Proxy
from tests.testbed.world import SOON, World

pytestmark = pytest.mark.servers


def examined(proxy: Proxy, folder: str) -> int:
    return sum(line.endswith(f'EXAMINE "{folder}"'.encode()) for line in proxy.lines)


def test_timer_passes_skip_the_idle_folder_until_idle_reports(world: World, tmp_path: Path) -> None:
    """While IDLE watches INBOX and reports nothing, each timer pass examines only the other
    folder (one command); a flag set on an invitation is reported by IDLE and the next pass
    reads INBOX and sends the withdrawal."""
    uid, _ = world.invite("poll-1@example.com", start=SOON, flagged=False)
    with Proxy(world.dovecot.imap_port) as proxy:
        text = config_text(
            world.dovecot,
            world.jane,
            world.tmp,
            imap_port=proxy.port,
            smtp_port=world.smtp.plain.port,
            imap_extra='poll_interval = "1s"',
            extra='\n[withdrawal]\ngrace = "0"\n',
        )
        config = load_config(text, world.tmp)
        with running(config.source, tmp_path) as (decliner, listener):
            decliner.wait(lambda: listener.passes() >= 3, "three passes")
            inbox, decline = examined(proxy, "INBOX"), examined(proxy, "Decline")
            start = listener.passes()
            decliner.wait(lambda: listener.passes() >= start + 3, "three more passes")
            assert examined(proxy, "INBOX") == inbox
            assert examined(proxy, "Decline") >= decline + 3
            world.dovecot.set_keyword(world.jane, "INBOX", uid, "Decline")
            decliner.wait(lambda: len(world.received(world.sam)) == 1, "the withdrawal")
            assert examined(proxy, "INBOX") > inbox
