"""`decliner --config PATH run --once` as the console script runs it, in a fresh
interpreter: what it printed, its exit status, whether it validated the config (a full
pass) or ended in the quiet check (no pydantic loaded), and which of decliner's modules
(and click's and imapclient's) it loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROBE = """
import json, sys
from decliner.cli.entry import main
sys.argv = ["decliner", "--config", sys.argv[1], "run", "--once"]
code = 0
try:
    main()
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else 1
sys.stdout.flush()
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in {"decliner", "click", "imapclient"})
print(json.dumps({"code": code, "validated": "pydantic" in sys.modules, "loaded": loaded}), file=sys.stderr)
"""


@dataclass(frozen=True)
class RunOnce:
    """One `run --once`: its exit status, stdout, stderr but the probe's line, and
    whether it was a full pass."""

    code: int
    out: str
    err: str
    validated: bool
    loaded: tuple[str, ...]  # decliner's modules, click's and imapclient's, sorted

    @property
    def quiet(self) -> bool:
        """Whether the run ended in the quiet check."""
        return not self.validated


def run_once(config: Path, env: dict[str, str] | None = None) -> RunOnce:
    """Run `run --once` with `config` through the console script's entry point."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(config)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    *err, last = done.stderr.splitlines() or [""]
    probe = json.loads(last) if last.startswith("{") else None
    assert probe is not None, done.stderr
    return RunOnce(
        probe["code"], done.stdout, "\n".join(err), probe["validated"], tuple(probe["loaded"])
    )
