"""The systemd units in deploy/, read as key/value lines and checked with systemd-analyze."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ANALYZE = shutil.which("systemd-analyze")


def analyze(*args: str, tmp_path: Path, user: bool = False) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze [--user] ARGS`, uncoloured, unpaged, in the C locale."""
    assert ANALYZE is not None
    env = {**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": "", "LC_ALL": "C.UTF-8"}
    if user:
        runtime = tmp_path / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
    return subprocess.run(
        [ANALYZE, *(["--user"] if user else []), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def settings(name: str) -> list[tuple[str, str]]:
    """The unit's (key, value) lines, in order, repeated keys kept."""
    pairs = []
    for line in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs
