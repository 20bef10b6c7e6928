"""`decliner web`: the review page on this machine (SPEC 21), its address printed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from decliner.cli.main import Options


@click.command("web")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default="a free port",
    help="Serve on 127.0.0.1:N.",
)
@click.option(
    "--open",
    "open_browser",
    is_flag=True,
    help="Open your browser on a one-time sign-in link (also to a page already served on --port).",
)
@click.option(
    "--idle",
    default="10m",
    show_default=True,
    metavar="DURATION",
    help="On a socket from systemd: stop after this long without a request.",
)
@click.pass_obj
def web(opts: Options, port: int, open_browser: bool, idle: str) -> None:  # noqa: FBT001 -- click's flag
    """Serve the review page: invitations, letters before they go, undo, threads.

    Listens on 127.0.0.1 only (or on the socket systemd hands over, then stops
    after --idle without a request; "0" never stops). Only your browser gets in: --open hands it a one-time link that
    leaves a cookie; the page reads the state db read-only and flags and
    unflags through the same code as `decliner flag` and `unflag`.
    """
    from decliner import config as cfg
    from decliner.web import guard, server

    try:
        idle_seconds = cfg.parse_duration(idle).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--idle") from None
    config = opts.load()
    fd = server.inherited_socket()
    if fd is None and port and open_browser and server.running_page(port):
        _open(server.Page.login_url_for(port, guard.issue_ticket(server.state_dir(config))))
        click.echo(f"Opened the review page already served at http://{server.HOST}:{port}/")
        return
    page = server.start(config, port=port, fd=fd)
    click.echo(f"decliner: the review page is at {page.url} (Ctrl-C stops it)")
    if open_browser:
        _open(page.login_url(guard.issue_ticket(server.state_dir(config))))
    else:
        click.echo(f"To sign in your browser: decliner web --port {page.port} --open")
    try:
        page.serve_until_idle(idle_seconds if fd is not None and idle_seconds > 0 else None)
    except KeyboardInterrupt:
        click.echo("decliner: the review page stopped")


def _open(url: str) -> None:
    """Hand the one-time link to the browser; it is never printed (it is a secret)."""
    import webbrowser

    from decliner.errors import RuntimeFailure

    if not webbrowser.open(url):
        raise RuntimeFailure("no browser could be opened (set $BROWSER to one)")
