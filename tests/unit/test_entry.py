"""The console script's entry: only a bare `[--config PATH] run --once` tries the quiet pass
before the CLI is loaded; every other command line goes to click unchanged."""

from __future__ import annotations

import subprocess
import sys

import pytest

from decliner.cli.entry import bare_run_once


@pytest.mark.parametrize(
    ("args", "config"),
    [
        (["run", "--once"], ""),
        (["--config", "c.toml", "run", "--once"], "c.toml"),
        (["--config=c.toml", "run", "--once"], "c.toml"),
        (["run"], None),
        (["-v", "run", "--once"], None),
        (["--debug", "run", "--once"], None),
        (["--config", "c.toml", "run"], None),
        (["--config", "", "run", "--once"], None),
        (["--config=", "run", "--once"], None),
        (["run", "--once", "--help"], None),
        (["invites"], None),
        ([], None),
    ],
)
def test_only_a_bare_run_once_is_taken_early(args: list[str], config: str | None) -> None:
    assert bare_run_once(args) == config


def test_help_loads_no_config_validation() -> None:
    """`decliner --help` answers without pydantic (the config models load on first use)."""
    probe = (
        "import sys\nfrom decliner.cli.entry import main\nsys.argv = ['decliner', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('pydantic' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert "Withdraw from job interviews gracefully" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "False"
