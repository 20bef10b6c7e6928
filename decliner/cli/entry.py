"""The `decliner` command's entry point: a bare `run --once` first tries the quiet pass.

`[--config PATH] run --once` is what a timer runs every few minutes, and most of those
runs find nothing new: the quiet pass (`service/quiet_pass.py`) proves that without the
command-line parser or the validated config, a third of a quiet run's cost. Every other
command line, and a quiet pass that cannot end at once, goes to the click CLI in
`main.py`, which parses it in full (so `--help`, errors and other options are click's).
"""

from __future__ import annotations

import sys
from pathlib import Path

from decliner.errors import ConfigError, DeclinerError


def main() -> None:
    """Console-script entry point."""
    config = bare_run_once(sys.argv[1:])
    if config is not None:
        from decliner.service import quiet_pass

        try:
            outcome = quiet_pass.attempt(Path(config) if config else None)
        except DeclinerError as exc:
            sys.stderr.writelines(f"{line}\n" for line in error_lines(exc))
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            sys.stderr.write("decliner: interrupted\n")  # as the CLI says it
            sys.exit(130)
        if outcome.report is not None:
            from decliner.cli.pass_output import pass_report

            pass_report(outcome.report)
            return
        quiet_pass.hand_over(outcome)
    from decliner.cli.main import cli

    cli(prog_name="decliner")


def bare_run_once(args: list[str]) -> str | None:
    """The config file of `[--config PATH] run --once` ("" for the default one), or None
    for any other command line."""
    match args:
        case ["run", "--once"]:
            return ""
        case ["--config", path, "run", "--once"] if path:
            return path
        case [option, "run", "--once"] if option.startswith("--config=") and option[9:]:
            return option[9:]
    return None


def error_lines(exc: DeclinerError) -> list[str]:
    """What a failed command prints: each config problem on its own line (they start with
    the file's name), else one line naming decliner."""
    return exc.problems if isinstance(exc, ConfigError) else [f"decliner: {exc}"]
