"""The command line: parse arguments, call a service function, print what it returns.

One error handler for every command: a `DeclinerError` prints one line on
stderr (each config problem on its own line) and exits 2 for usage/config
mistakes, 1 for runtime failures; `--debug` adds the traceback.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from decliner import __version__
from decliner.cli.entry import error_lines
from decliner.cli.providers import PROVIDERS
from decliner.cli.review_commands import log_command, preview
from decliner.cli.signin import login, logout
from decliner.cli.web_command import web
from decliner.errors import DeclinerError

if TYPE_CHECKING:
    from decliner.config import Config
    from decliner.config.secret_sources import Credential
    from decliner.service.report import PassReport


@dataclass
class Options:
    """Global options shared by every command."""

    config_path: Path | None
    debug: bool
    verbose: int = 0
    quiet: bool = False

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
            for line in error_lines(exc):
                click.echo(line, err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("decliner: interrupted", err=True)
            ctx.exit(130)


@click.group(
    cls=_Group,
    commands=[preview, log_command, web, login, logout],
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    from decliner import logs

    logs.setup(verbose, quiet=quiet, debug=debug)
    ctx.obj = Options(config_path, debug, verbose, quiet)


@cli.command()
@click.option("--offline", is_flag=True, help="Only validate the config and templates.")
@click.pass_obj
def check(opts: Options, offline: bool) -> None:
    """Validate the config; without --offline also log in to IMAP, SMTP and CalDAV.

    Prints one pass/fail line per step and exits 1 if any step failed.
    """
    from decliner.cli import checks

    config = opts.load()
    results = [
        checks.check_config(config),
        checks.check_templates(config),
        checks.check_state(config),
    ]
    for result in results:
        checks.print_check(result)
    if not offline:
        for result in checks.check_signin(config):
            results.append(result)
            checks.print_check(result)
        if config.imap is not None:
            results.append(checks.check_imap(config))
        else:
            results.append(checks.check_maildir(config))
        checks.print_check(results[-1])
        import asyncio

        results.append(asyncio.run(checks.check_smtp(config)))
        checks.print_check(results[-1])
        if config.calendar is not None:
            results.append(checks.check_calendar(config))
            checks.print_check(results[-1])
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
    unless --cached. When the mailbox cannot be read (server down, login
    refused, secret missing), warns on stderr and shows what the state db
    knew at the last sync. Shows upcoming invitations unless --all.
    """
    from decliner.cli import json_output, output, progress
    from decliner.service import listing, passes, wiring

    config = opts.load()
    with wiring.open_store(config, readonly=cached) as store:
        if not cached:
            with progress.scan_progress() as update:
                stale = passes.refresh(config, store, update)
            if stale:
                click.echo(f"decliner: {stale}", err=True)
        views = listing.invites(config, store, wiring.utcnow(), include_past=include_past)
    if as_json:
        json_output.print_json([json_output.invite_json(v, config) for v in views])
    else:
        output.invites_table(views, config.account.zone)


@cli.command()
@click.option("--once", is_flag=True, help="One full pass, then exit (for cron and tests).")
@click.pass_obj
def run(opts: Options, once: bool) -> None:
    """Watch the mailbox and act on flags until stopped (SIGTERM).

    Each pass reads new mail, notes flags, sends withdrawals whose grace
    period is over, and follow-ups that are due. --once makes one pass: one
    attempt per due message; retries are left to the next pass.
    """
    from decliner.cli.pass_output import pass_report

    if not once:
        from decliner import daemon, logs

        config = opts.load()
        # A service's journal should say what it sent and to whom: INFO unless --quiet.
        logs.setup(max(opts.verbose, 1), quiet=opts.quiet, debug=opts.debug)

        sys.exit(daemon.run(config))
    from decliner.service import quiet_pass

    quiet = quiet_pass.handed_over() or quiet_pass.attempt(opts.config_path)
    report = quiet.report or _full_pass(opts, quiet.credential)
    pass_report(report)
    if report.failed:
        sys.exit(1)


def _full_pass(opts: Options, credential: Credential | None) -> PassReport:
    """`run --once` when the quiet pass could not end it: validate, scan, plan, act."""
    from decliner import config as configuration
    from decliner.service import passes, quiet_pass, wiring

    path = opts.config_path or configuration.default_path()
    text = configuration.read(path)
    config = configuration.parse(text, path)
    with wiring.open_store(config) as store:
        store.lock_daemon()
        return passes.run_once(
            config, store, credential=credential, digest=quiet_pass.digest(text, path)
        )


@cli.command()
@click.argument("event")
@click.option(
    "--reason", default="", help="A brief reason to give (overrides [withdrawal].reason)."
)
@click.option("--to", "to", default="", metavar="ADDR", help="Send the withdrawal to ADDR instead.")
@click.option(
    "--scope",
    type=click.Choice(["process", "interview"]),
    default=None,
    help="Withdraw from the whole hiring process or this interview only ([withdrawal].scope).",
)
@click.option("--role", default="", metavar="TEXT", help="What the letter calls the position.")
@click.option("--company", default="", metavar="TEXT", help="What the letter calls the employer.")
@click.pass_obj
def flag(
    opts: Options, event: str, *, reason: str, to: str, scope: str | None, role: str, company: str
) -> None:
    """Flag the interview EVENT: decliner will withdraw from it.

    EVENT is the id `decliner invites` shows, any unique prefix of it, or the
    event's UID. The withdrawal goes out once the grace period has passed;
    `decliner unflag EVENT` before then, and nothing is sent.
    """
    from decliner.cli import output
    from decliner.service import flagging, wiring

    config = opts.load()
    with wiring.open_store(config) as store:
        view = flagging.flag(
            config,
            store,
            event,
            reason=reason,
            to=to,
            scope=scope or "",
            role=role,
            company=company,
        )
    output.flag_result(view, config)


@cli.command()
@click.argument("event")
@click.pass_obj
def unflag(opts: Options, event: str) -> None:
    """Remove the CLI or keyword flag from EVENT.

    Within the grace period this cancels the withdrawal. Flags set in the
    config file or by the flag folder are named so you can remove them there.
    """
    from decliner.cli import output
    from decliner.service import flagging, wiring

    config = opts.load()
    with wiring.open_store(config) as store:
        result = flagging.unflag(config, store, event)
    output.unflag_result(result)


@cli.command()
@click.option("--email", default="", metavar="ADDR", help="Your address, filled in for you.")
@click.option(
    "--provider",
    type=click.Choice([p.key for p in PROVIDERS]),
    help="Your mail provider, when your address's domain does not say it (e.g. Google"
    " Workspace or Microsoft 365 on your own domain) [default: from the address].",
)
@click.argument("path", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def init(opts: Options, email: str, provider: str | None, path: Path | None) -> None:
    """Write a commented starter config to PATH; never overwrites a file.

    PATH defaults to --config, else $DECLINER_CONFIG, else
    ~/.config/decliner/config.toml. The file is readable by you only; the lines
    marked TODO need your values, and `decliner check` lists those left. For
    well-known providers (Gmail, Outlook.com, Fastmail, iCloud, Yahoo, GMX,
    mailbox.org, Posteo, Proton Bridge, ...) the servers are filled in from
    the address's domain, or from --provider.
    """
    from decliner import config
    from decliner.cli import output, providers, starter

    chosen = providers.by_key(provider) if provider else providers.for_domain(email)
    target = path or opts.config_path or config.default_path()
    written = starter.write_starter(target, email, chosen)
    todo = starter.todo_lines(written.read_text(encoding="utf-8"))
    output.init_result(written, todo, default=written == config.default_path(), provider=chosen)


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Build the sandbox here (a new or empty directory) [default: a new temp dir].",
)
@click.option(
    "--keep/--no-keep",
    default=True,
    show_default=True,
    help="Keep the sandbox afterwards, to try the other commands on it.",
)
@click.option(
    "--followup-delay",
    default="5s",
    show_default=True,
    metavar="DURATION",
    help="How long the follow-up waits after the withdrawal.",
)
def demo(directory: Path | None, keep: bool, followup_delay: str) -> None:
    """Show the whole flow on a throw-away local sandbox: no account, no network.

    Builds a Maildir with a few invitations, flags one, previews the withdrawal,
    runs the daemon's passes, waits for the follow-up, and shows what the
    recruiter received. Takes a few seconds.
    """
    import shutil
    import tempfile
    from datetime import timedelta

    from decliner import config
    from decliner.cli import demo, demo_sandbox, output

    try:
        delay = config.parse_duration(followup_delay)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--followup-delay") from None
    if not timedelta(seconds=1) <= delay <= timedelta(minutes=10):
        raise click.BadParameter("give 1s to 10m", param_hint="--followup-delay")
    if directory is not None:
        demo_sandbox.ensure_empty(directory)
    target = directory or Path(tempfile.mkdtemp(prefix="decliner-demo-"))
    try:
        for item in demo.run(target, followup_delay=delay, program=demo.program(), keep=keep):
            output.demo_item(item)
    finally:
        if not keep:
            shutil.rmtree(target, ignore_errors=True)
    if not keep:
        click.echo(f"\nRemoved the sandbox {target} (--no-keep).")


def main() -> None:
    """The CLI without the entry point's quiet pass (`entry.main` is the console script)."""
    cli(prog_name="decliner")
