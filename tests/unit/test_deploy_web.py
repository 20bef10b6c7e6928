"""The review page's user units in deploy/: valid for `systemd-analyze verify`, the socket
on the loopback only, the service started by it and stopping when idle.

As in test_deploy.py, `verify` runs over copies whose ExecStart= names a stub (decliner
is not installed at ~/.local/bin here); the socket and its service are verified together.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.testbed.units import ANALYZE, DEPLOY, analyze, settings

INSTALLED = "%h/.local/bin/decliner"

pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def test_web_units_pass_verify(tmp_path: Path) -> None:
    """`systemd-analyze --user verify` accepts the socket and its service, silently."""
    stub = tmp_path / "bin" / "decliner"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stub.chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for name in ("decliner-web.socket", "decliner-web.service"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        (units / name).write_text(text.replace(f"{INSTALLED} ", f"{stub} "), encoding="utf-8")
    done = analyze(
        "verify",
        str(units / "decliner-web.socket"),
        str(units / "decliner-web.service"),
        tmp_path=tmp_path,
        user=True,
    )
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "")


def test_the_socket_listens_on_the_loopback_and_starts_the_page() -> None:
    """The socket binds 127.0.0.1 only and hands one listening socket to one service, which
    runs `decliner web` with the user unit's config, stops when idle and is hardened."""
    socket = settings("decliner-web.socket")
    assert [v for k, v in socket if k.startswith("Listen")] == ["127.0.0.1:8425"]
    assert ("Accept", "no") in socket
    service = dict(settings("decliner-web.service"))
    assert service["ExecStart"] == f"{INSTALLED} --config %E/decliner/config.toml web --idle 10m"
    assert service["Requires"] == "decliner-web.socket"
    for key, value in (("UMask", "0077"), ("NoNewPrivileges", "yes"), ("Type", "simple")):
        assert service[key] == value
    user = dict(settings("decliner-user.service"))
    assert user["ExecStart"].startswith(f"{INSTALLED} --config %E/decliner/config.toml ")
