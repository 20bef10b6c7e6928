"""The systemd units in deploy/: valid for systemd-analyze, and hardened as promised.

`systemd-analyze verify` refuses a unit whose ExecStart= binary does not exist, and
decliner is not installed at /usr/local/bin here. `--root=` would need a whole unit tree
(sysinit.target, /bin/kill) under the root, so each test verifies a copy of the unit
whose ExecStart= names a stub executable in the temp dir instead; everything else in
the copy is the shipped text. `verify` reads unit files only and needs no running
systemd (a user unit wants just $XDG_RUNTIME_DIR); `security --offline=yes` (systemd
>= 250) scores a unit file the same way.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.testbed.units import ANALYZE, DEPLOY, analyze, settings

# The binary each unit starts, replaced by a stub for `verify`.
BINARIES = {
    "decliner.service": "/usr/local/bin/decliner",
    "decliner@.service": "/usr/local/bin/decliner",
    "decliner-user.service": "%h/.local/bin/decliner",
}
MAX_EXPOSURE = 2.0

pytestmark = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_units_pass_verify(name: str, tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit without an error or a warning."""
    stub = tmp_path / "bin" / "decliner"
    stub.parent.mkdir()
    stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    stub.chmod(0o755)
    text = (DEPLOY / name).read_text(encoding="utf-8")
    assert f"ExecStart={BINARIES[name]} " in text
    copy = tmp_path / "units" / name
    copy.parent.mkdir()
    copy.write_text(text.replace(f"ExecStart={BINARIES[name]} ", f"ExecStart={stub} "), "utf-8")
    done = analyze("verify", str(copy), tmp_path=tmp_path, user=name == "decliner-user.service")
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "")


@pytest.mark.parametrize("name", ["decliner.service", "decliner@.service"])
def test_system_units_exposure(name: str, tmp_path: Path) -> None:
    """`systemd-analyze security --offline=yes` rates the system units 2.0 or lower."""
    done = analyze("security", "--offline=yes", str(DEPLOY / name), tmp_path=tmp_path)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found[1]) <= MAX_EXPOSURE, done.stdout


@pytest.mark.parametrize("name", ["decliner.service", "decliner@.service", "decliner-user.service"])
def test_units_keep_the_contract(name: str) -> None:
    """What the spec and the daemon rely on: notify, watchdog, reload by SIGHUP, clean stop."""
    unit = settings(name)
    for setting in [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        ("ExecReload", "/bin/kill -HUP $MAINPID"),
        ("WatchdogSec", "120"),
        ("Restart", "on-failure"),
        ("UMask", "0077"),
        ("NoNewPrivileges", "yes"),
    ]:
        assert setting in unit, setting
    exec_start = dict(unit)["ExecStart"]
    assert exec_start.endswith(" run")
    assert " --config " in exec_start


@pytest.mark.parametrize(
    ("name", "config", "credential", "state"),
    [
        (
            "decliner.service",
            "${CONFIGURATION_DIRECTORY}/config.toml",
            "imap-password:/etc/decliner/imap-password",
            "decliner",
        ),
        (
            "decliner@.service",
            "${CONFIGURATION_DIRECTORY}/%i.toml",
            "%i.imap-password:/etc/decliner/%i.imap-password",
            "decliner/%i",
        ),
    ],
)
def test_system_units_paths(name: str, config: str, credential: str, state: str) -> None:
    """Config, credential and state paths are the ones deploy/README.md documents."""
    unit = settings(name)
    assert f"--config {config} run" in dict(unit)["ExecStart"]
    assert ("LoadCredential", credential) in unit
    assert ("StateDirectory", state) in unit
    assert ("ConfigurationDirectory", "decliner") in unit
    assert ("DynamicUser", "yes") in unit
    assert ("ProtectSystem", "strict") in unit
