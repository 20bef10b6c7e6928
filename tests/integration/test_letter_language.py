"""`preview` writes in the configured language, or the invitation's own (SPEC 14)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from tests.testbed.helpers import config_text, load_config
from tests.testbed.mailfactory import calendar, google_invite
from tests.testbed.world import SOON, World

pytestmark = pytest.mark.servers

BERLIN = ZoneInfo("Europe/Berlin")  # the test bed's account zone
FRENCH = (
    "Entretien technique avec l'équipe plateforme, puis un court échange avec la responsable"
    " du recrutement."
)


def configure(world: World, account: str = "", extra: str = "") -> None:
    text = config_text(
        world.dovecot,
        world.jane,
        world.tmp,
        smtp_port=world.smtp.plain.port,
        account_extra=account,
        extra=extra,
    )
    load_config(text, world.tmp)


def event_id(world: World) -> str:
    [line] = [ln for ln in world.cli("invites").stdout.splitlines() if "sam" in ln]
    return line.split()[0]


def test_preview_is_german_under_language_de(world: World) -> None:
    """account.language = "de": the withdrawal is the German letter, the date in German."""
    configure(world, account='language = "de"')
    world.invite("lang-de@example.com", start=SOON)
    result = world.cli("preview", event_id(world))
    assert result.exit_code == 0, result.output
    day = format_date(SOON.astimezone(BERLIN).date(), "full", locale="de_DE")
    assert day in " ".join(result.stdout.split())
    assert "Jane Doe" in result.stdout and "language:" not in result.stderr


def test_auto_writes_in_the_invitations_language_and_preview_says_why(world: World) -> None:
    """`language = "auto"`: a French description gives the French letter, and preview says on
    stderr that French was detected in the description."""
    ics = calendar(
        uid="lang-fr@example.com",
        start=SOON,
        summary="Entretien",
        organizer=world.sam.address,
        organizer_name="Sam",
        me=world.jane.address,
    ).replace("SUMMARY:Entretien\r\n", f"SUMMARY:Entretien\r\nDESCRIPTION:{FRENCH}\r\n")
    raw, _ = google_invite(
        organizer=world.sam.address,
        organizer_name="Sam",
        me=world.jane.address,
        uid="lang-fr@example.com",
        start=SOON,
        ics=ics,
    )
    world.dovecot.append(world.jane, "INBOX", raw)
    configure(world, account='language = "auto"')
    result = world.cli("preview", event_id(world))
    assert result.exit_code == 0, result.output
    day = format_date(SOON.astimezone(BERLIN).date(), "full", locale="fr_FR")
    assert day in " ".join(result.stdout.split())
    assert "language: fr (auto: French, detected in the description)" in result.stderr


def test_a_cancel_entry_chooses_the_language_of_its_letter(world: World) -> None:
    """[[cancel]].language overrides account.language for the interview it names."""
    configure(world, extra='\n[[cancel]]\nuid = "lang-it@example.com"\nlanguage = "it"\n')
    world.invite("lang-it@example.com", start=SOON, flagged=False)
    result = world.cli("preview", event_id(world))
    day = format_date(SOON.astimezone(BERLIN).date(), "full", locale="it_IT")
    assert day in " ".join(result.stdout.split())


def test_a_custom_template_gets_the_language_and_its_dates(world: World) -> None:
    """A template of the user's own gets `language`, and its date filter writes in it."""
    template = world.tmp / "mine.j2"
    template.write_text("Hallo,\n\n[{{ language }}] {{ event.start | date }}\n\n{{ me.name }}\n")
    configure(
        world,
        account='language = "de"',
        extra=f'\n[withdrawal]\ntemplate = "{template}"\n',
    )
    world.invite("lang-custom@example.com", start=SOON)
    result = world.cli("preview", event_id(world))
    day = format_date(SOON.astimezone(BERLIN).date(), "full", locale="de_DE")
    assert f"[de] {day}" in " ".join(result.stdout.split())
