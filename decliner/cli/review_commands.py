"""`decliner preview` and `decliner log`: what will be sent, and what was."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from decliner.cli.main import Options


@click.command()
@click.argument("event")
@click.option("--followup", is_flag=True, help="Preview the follow-up instead of the withdrawal.")
@click.option("--raw", "raw", is_flag=True, help="Print the exact bytes, without decoding.")
@click.pass_obj
def preview(opts: Options, event: str, followup: bool, raw: bool) -> None:
    """Print the exact message that would be sent for EVENT, headers and body.

    Works before flagging. Once a message is stored in the outbox, this shows
    the stored bytes: exactly what was (or will be) sent.
    """
    from decliner.cli import preview_text
    from decliner.service import lookup, wiring
    from decliner.service import preview as previews

    config = opts.load()
    with wiring.open_store(config, readonly=True) as store:
        message = previews.message(
            config, store, event, kind="followup" if followup else "withdrawal"
        )
        language = previews.letter_language(config, store, event)
        named = previews.naming(config, store, event)
        record = lookup.find_event(store, event)
        lead = previews.covered_by(config, store, event)
    # Notes go to stderr: stdout is the exact message.
    if lead is not None:
        click.echo(preview_text.covered_note(record.id, lead), err=True)
    for line in preview_text.notes(record, language, named, followup=followup):
        click.echo(line, err=True)
    if raw:
        sys.stdout.buffer.write(message)
    else:
        preview_text.print_message(message)


@click.command("log")
@click.argument("event", required=False)
@click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array (see SPEC) instead of threads."
)
@click.pass_obj
def log_command(opts: Options, event: str | None, as_json: bool) -> None:
    """The sent log: each thread, message by message (what went out, what came back).

    Shows what the state db knows; the daemon or `run --once` reads new replies.
    """
    from decliner.cli import json_output, output
    from decliner.service import thread_log, wiring

    config = opts.load()
    with wiring.open_store(config, readonly=True) as store:
        entries = thread_log.log_entries(config, store, event)
    if as_json:
        json_output.print_json([json_output.log_entry_json(e, config) for e in entries])
    else:
        output.log_threads(entries, config.account.zone)
