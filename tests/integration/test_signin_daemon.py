"""The daemon with an OAuth2 sign-in (SPEC 17): it outlives many short access tokens while
mail arrives and withdrawals go out, and when the sign-in is withdrawn it stays up, says
"sign in again: decliner login" in its log and STATUS, and carries on once `login` ran."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path

import pytest

from tests.testbed.browser import chromium
from tests.testbed.daemon_harness import running
from tests.testbed.oauth import OAuthServer
from tests.testbed.signin import sign_in, signin_config
from tests.testbed.world import World

pytestmark = pytest.mark.servers


def _past(instant: float) -> bool:
    return time.time() >= instant


def _received(world: World, count: int) -> bool:
    return len(world.received(world.sam)) == count


def _renew_at(config: Path) -> float:
    data = json.loads((config.parent / "oauth2-testidp.json").read_text())
    expiry: float = min(a["expires_at"] for a in data["access"].values())
    return expiry - 1


def test_daemon_outlives_tokens_and_waits_for_sign_in(
    tmp_path: Path, world: World, oauth_server: OAuthServer
) -> None:
    """Access tokens of two seconds: three withdrawals, each after the last token aged,
    go out with fresh tokens; after consent is withdrawn the next one waits (STATUS and
    log say to sign in again), and goes out once the user has signed in, no restart."""
    idp = oauth_server
    idp.user, idp.lifetime = world.jane.address, 2.0
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
                idp.records.revoke_user(world.jane.address)
                world.invite("uid-4@example.com")
                decliner.wait(
                    lambda: listener.status_with("sign in again: decliner login"), "STATUS"
                )
                assert decliner.logged("sign in again: decliner login")
                assert decliner.process.poll() is None
                sign_in(driver, config)
                decliner.wait(lambda: len(world.received(world.sam)) == 4, "withdrawal 4")
            assert "CANARY" not in decliner.output
    finally:
        idp.lifetime = 3600.0
