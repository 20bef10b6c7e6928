"""The daemon with an OAuth2 sign-in (SPEC 17): it outlives many short access tokens while
mail arrives and withdrawals go out, and when the sign-in is withdrawn it stays up, says
"sign in again: decliner login" in its log and STATUS, and carries on once `login` ran."""

from __future__ import annotations

import signal
import time
from functools import partial
from pathlib import Path

import pytest

from decliner.auth import token_file
from decliner.config import load
from tests.testbed.browser import chromium
from tests.testbed.daemon_harness import NotifyListener, daemon, running
from tests.testbed.oauth import OAuthServer
from tests.testbed.signin import sign_in, signin_config
from tests.testbed.wait import poll
from tests.testbed.world import World

pytestmark = pytest.mark.servers


def _past(instant: float) -> bool:
    return time.time() >= instant


def _received(world: World, count: int) -> bool:
    return len(world.received(world.sam)) == count


def _bearer_logins(world: World) -> int:
    """The daemon's IMAP logins (the test bed's own helpers log in with PLAIN)."""
    return world.dovecot.login_methods(world.jane).count("OAUTHBEARER")


def _renew_at(config: Path) -> float:
    """When the stored access tokens are due for renewal."""
    found = token_file(load(config), "testidp").load()
    assert found is not None
    return min(a.renew_at for a in found.access.values())


@pytest.mark.timeout(300)  # the refused send waits for its retry time, 30 s or more
def test_daemon_outlives_tokens_and_waits_for_sign_in(
    tmp_path: Path, world: World, oauth_server: OAuthServer
) -> None:
    """Access tokens of six seconds: three withdrawals, each after the last token aged,
    go out with fresh tokens, and a reconnect after a reload logs in with a fresh one
    (an expired one would stop the daemon: a refused login); after consent is withdrawn the next one waits (STATUS and
    log say to sign in again), and goes out in the first pass once the user has signed in,
    no restart."""
    idp = oauth_server
    idp.user, idp.lifetime = world.jane.address, 6.0
    config = signin_config(
        tmp_path,
        world.dovecot,
        world.jane,
        idp,
        smtp_port=world.smtp.plain.port,
        extra='[withdrawal]\ngrace = "0"\n',
    )
    try:
        with chromium(tmp_path / "profile") as driver:
            sign_in(driver, config)
            issued = len(idp.records.by_access)
            with running(config, tmp_path) as (decliner, listener):
                for number in range(1, 4):
                    renew_at = _renew_at(config)
                    decliner.wait(partial(_past, renew_at), "the token to age")
                    world.invite(f"uid-{number}@example.com")
                    decliner.wait(partial(_received, world, number), f"withdrawal {number}")
                assert len(idp.records.by_access) >= issued + 3  # a fresh token for each
                # A reload reconnects IMAP (as a dropped connection would): with a fresh token.
                logins = _bearer_logins(world)
                decliner.wait(partial(_past, _renew_at(config)), "the token to age")
                decliner.process.send_signal(signal.SIGHUP)
                decliner.wait(lambda: _bearer_logins(world) > logins, "a new IMAP login")
                # Consent withdrawn: the next send waits (pending, nothing lost) and says why.
                idp.records.revoke_user(world.jane.address)
                world.invite("uid-4@example.com")
                decliner.wait(
                    lambda: listener.status_with("sign in again: decliner login"), "STATUS"
                )
                assert decliner.logged("not sent yet", "sign in again: decliner login")
                # A reconnect now cannot log in: the daemon waits for the user, up and alive.
                mark = listener.mark()
                decliner.process.send_signal(signal.SIGHUP)
                decliner.wait(
                    lambda: decliner.logged("sign-in at testidp") > 1, "the refused login"
                )
                assert listener.passes(since=mark) == 0 and decliner.process.poll() is None
                assert decliner.logged("ERROR", "sign in again: decliner login") == 1  # said once
                printed = sign_in(driver, config)
                assert "1 message(s) that could not be sent go out with the next pass" in printed
                decliner.wait(lambda: decliner.logged("signed in; carrying on") > 0, "resume")
                # The login made the waiting withdrawal due: it went in the first pass after
                # the sign-in, not at its retry time (30 s after it was refused, then 60 s).
                out = decliner.output
                assert out[: out.index("signed in; carrying on")].count("sent withdrawal") == 4
                assert poll(lambda: len(world.received(world.sam)) == 4)
            assert "CANARY" not in decliner.output
    finally:
        idp.lifetime = 3600.0


def test_daemon_started_before_login(
    tmp_path: Path, world: World, oauth_server: OAuthServer
) -> None:
    """Started before anyone signed in (as after `init`), the daemon still tells systemd it
    is ready, with STATUS saying to sign in, and starts its passes once `login` has run."""
    oauth_server.user = world.jane.address
    config = signin_config(
        tmp_path, world.dovecot, world.jane, oauth_server, smtp_port=world.smtp.plain.port
    )
    listener = NotifyListener(tmp_path / "notify.sock")
    try:
        with daemon(config, {"NOTIFY_SOCKET": str(listener.path)}) as decliner:
            decliner.wait(lambda: listener.count("READY=1") > 0, "READY=1")
            assert listener.status_with("not signed in to testidp; sign in: decliner login")
            assert listener.passes() == 0
            with chromium(tmp_path / "profile") as driver:
                sign_in(driver, config)
            decliner.wait(lambda: listener.passes() > 0, "a pass after login")
            assert decliner.logged("signed in; carrying on") == 1
            assert decliner.stop() == 0
    finally:
        listener.close()
