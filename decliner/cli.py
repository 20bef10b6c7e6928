"""The command line: parse arguments, call a service function, print what it returns.

One error handler for every command: a `DeclinerError` prints one line on
stderr (each config problem on its own line) and exits 2 for usage/config
mistakes, 1 for runtime failures; `--debug` adds the traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from decliner import __version__
from decliner.errors import ConfigError, DeclinerError

if TYPE_CHECKING:
    from decliner.checks import Check
    from decliner.config import Config

log = logging.getLogger("decliner")


@dataclass
class Options:
    """Global options shared by every command."""

    config_path: Path | None
    debug: bool

    def load(self) -> Config:
        """The validated config (imported lazily to keep `--help` fast)."""
        from decliner import config

        return config.load(self.config_path)


class _Group(click.Group):
    """A click group that turns our errors into one line and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DeclinerError as exc:
            if ctx.params.get("debug"):
                traceback.print_exc()
            # Config problems already start with the file name; others get ours.
            lines = exc.problems if isinstance(exc, ConfigError) else [f"decliner: {exc}"]
            for line in lines:
                click.echo(line, err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("decliner: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="DECLINER_CONFIG",
    help="Config file [default: $DECLINER_CONFIG, else ~/.config/decliner/config.toml].",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("-v", "--verbose", count=True, help="More log output (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.version_option(__version__, prog_name="decliner")
@click.pass_context
def cli(
    ctx: click.Context, config_path: Path | None, debug: bool, verbose: int, quiet: bool
) -> None:
    """Withdraw from job interviews gracefully.

    decliner watches your mailbox for interview invitations. Flag one you no
    longer want, and it sends a short, respectful withdrawal to whoever
    scheduled it, declines the calendar event, and later confirms in writing.
    """
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    if quiet:
        level = logging.WARNING
    logging.basicConfig(level=logging.WARNING, format="decliner: %(levelname)s: %(message)s")
    log.setLevel(level)
    ctx.obj = Options(config_path, debug)


@cli.command()
@click.option("--offline", is_flag=True, help="Only validate the config and templates.")
@click.pass_obj
def check(opts: Options, offline: bool) -> None:
    """Validate the config; without --offline also log in to IMAP and SMTP.

    Prints one pass/fail line per step and exits 1 if any step failed.
    """
    from decliner import checks

    config = opts.load()
    results = [checks.check_config(config), checks.check_templates(config)]
    _print_check(results[0])
    _print_check(results[1])
    if not offline:
        if config.imap is not None:
            results.append(checks.check_imap(config))
            _print_check(results[-1])
        results.append(asyncio.run(checks.check_smtp(config)))
        _print_check(results[-1])
    if not all(r.ok for r in results):
        sys.exit(1)


@cli.command()
@click.option(
    "--all", "include_past", is_flag=True, help="Include invitations that have begun or passed."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array (see SPEC) instead of a table."
)
@click.option(
    "--cached", is_flag=True, help="Do not read new mail first; show what the state db knows."
)
@click.pass_obj
def invites(opts: Options, include_past: bool, as_json: bool, cached: bool) -> None:
    """List the interview invitations found in your mailbox.

    Reads new mail first (incrementally; only calendar parts are downloaded),
    unless --cached. Shows upcoming invitations unless --all.
    """
    from decliner import output, service

    config = opts.load()
    with service.open_store(config) as store:
        if not cached:
            with output.scan_progress() as progress:
                service.scan(config, store, progress)
        views = service.invites(config, store, service.utcnow(), include_past=include_past)
    if as_json:
        output.print_json([v.as_json(config) for v in views])
    else:
        output.invites_table(views, config.account.zone)


def _print_check(result: Check) -> None:
    mark = (
        click.style("ok  ", fg="green") if result.ok else click.style("FAIL", fg="red", bold=True)
    )
    click.echo(f"{mark} {result.name:<9} {result.detail}")
    for warning in result.warnings:
        click.echo(f"     {click.style('warning:', fg='yellow')} {warning}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="decliner")
