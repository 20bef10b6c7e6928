"""`decliner login` and `logout`: OAuth2 sign-in for an account with `oauth2` (SPEC 17)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from decliner.cli.main import Options


@click.command()
@click.option("--device", is_flag=True, help="Sign in with a code typed in on another device.")
@click.option("--no-browser", is_flag=True, help="Only print the address to open.")
@click.pass_obj
def login(opts: Options, device: bool, no_browser: bool) -> None:  # noqa: FBT001 -- click passes flags by name
    """Sign in with OAuth2 (Google, Microsoft or an [oauth2.NAME] provider).

    The tokens are stored beside the state db (mode 0600) and refreshed by decliner.
    """
    from decliner.auth import login as flow
    from decliner.service import signin, wiring

    config = opts.load()
    options = flow.Options(device=device, browser=not no_browser)
    for line in flow.login(config, click.echo, options):
        click.echo(line)
    if waiting := signin.signed_in(config, wiring.utcnow()):
        click.echo(f"{waiting} message(s) that could not be sent go out with the next pass")
    click.echo("Next: decliner check")


@click.command()
@click.pass_obj
def logout(opts: Options) -> None:
    """Revoke the OAuth2 sign-in where the provider allows it; delete the stored tokens."""
    from decliner.auth import login as flow

    for line in flow.logout(opts.load()):
        click.echo(line)
