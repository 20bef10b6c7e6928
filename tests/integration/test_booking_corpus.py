"""The scheduling tools' corpus end to end (SPEC 1, 3, 15): scan, `invites --json`, and the
withdrawal to the right person, with or without the iTIP part as the kind says; over IMAP
and over Maildir. No name is looked up for a booking link while this runs."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import tomllib
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from decliner.cli.main import cli
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.maildir_tree import Tree
from tests.testbed.smtpd import SmtpServers

pytestmark = pytest.mark.servers

CORPUS = Path(__file__).parents[1] / "corpus" / "booking"
ME = "jane.doe@example.com"
ALIASES = ("jdoe@example.org",)


def cases() -> list[dict[str, Any]]:
    with (CORPUS / "expected.toml").open("rb") as handle:
        found: list[dict[str, Any]] = tomllib.load(handle)["message"]
    return found


@pytest.fixture
def only_the_test_bed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every name lookup but loopback's is recorded and refused: a booking link that anyone
    tried to open would show up here."""
    lookups: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host) not in {"127.0.0.1", "localhost", "::1"}:
            lookups.append(str(host))
            raise socket.gaierror(f"{host}: no lookups in this test")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return lookups


def listed_as_expected(run: Callable[..., Result]) -> None:
    """`invites --json` lists each invitation with its kind, recipient and booking links,
    and no non-invitation; then every invitation is flagged from the CLI."""
    invites = {i["uid"]: i for i in json.loads(run("invites", "--json").stdout)}
    for case in cases():
        if not case["kind"]:
            assert all(i["summary"] != case.get("summary") for i in invites.values())
            continue
        found = invites.get(case["uid"])
        assert found is not None, f"{case['file']}: not listed"
        assert found["kind"] == case["kind"], case["file"]
        assert (found["recipient"] or "") == case["recipient"], case["file"]
        got = sorted((link["action"], link["url"]) for link in found["booking_links"])
        wanted = sorted((link["action"], link["url"]) for link in case.get("link", []))
        assert got == wanted, case["file"]
        assert run("flag", found["id"]).exit_code == 0


def withdrawn_as_expected(letters: list[EmailMessage]) -> None:
    """One withdrawal per invitation with a recipient, to that person, with an iTIP part
    exactly for a request; nothing for one with nobody to write to."""
    to = [getaddresses([str(m["To"])])[0][1].lower() for m in letters]
    expected = [c for c in cases() if c["kind"] and c["recipient"]]
    assert sorted(to) == sorted(c["recipient"] for c in expected)
    for case in expected:
        letter = letters[to.index(case["recipient"])]
        itip = any(p.get_content_type() == "text/calendar" for p in letter.walk())
        assert itip == case["itip"], case["file"]


def test_booking_corpus_over_imap(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers, only_the_test_bed: list[str]
) -> None:
    """Over IMAP: listed, flagged and withdrawn as expected, no booking link looked up."""
    account = dovecot.add_account(Account(ME, f"pw-{tmp_path.name}-CANARY"))
    for path in sorted(CORPUS.glob("*.eml")):
        dovecot.append(account, "INBOX", path.read_bytes())
    text = config_text(
        dovecot,
        account,
        tmp_path,
        me=ME,
        aliases=ALIASES,
        smtp_port=smtp_servers.plain.port,
        extra='\n[withdrawal]\ngrace = "0"\n',
    )
    load_config(text, tmp_path)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(tmp_path / "config.toml"), *args])

    listed_as_expected(run)
    assert run("run", "--once").exit_code == 0
    letters = [
        email.message_from_bytes(m.data, policy=email.policy.default)
        for m in smtp_servers.plain.messages
        if m.mail_from == ME
    ]
    withdrawn_as_expected([m for m in letters if isinstance(m, EmailMessage)])
    assert only_the_test_bed == []


def test_booking_corpus_over_maildir(tmp_path: Path, only_the_test_bed: list[str]) -> None:
    """Over Maildir: the same, the letters written by the maildir transport."""
    tree = Tree(tmp_path)
    for path in sorted(CORPUS.glob("*.eml")):
        tree.add(path.read_bytes())
    tree.config()
    listed_as_expected(tree.cli)
    assert tree.cli("run", "--once").exit_code == 0
    withdrawn_as_expected(tree.received())
    assert only_the_test_bed == []


def test_a_static_invitation_as_the_user_sees_it(tmp_path: Path) -> None:
    """Calendly's static confirmation: `invites` marks it static with its links, `preview`
    says no decline is attached and which links to open, the letter has no calendar part,
    `run --once` and `log` point to the cancel link, and a template can use the links."""
    tree = Tree(tmp_path)
    tree.add((CORPUS / "02-calendly-email-confirmation-fr.eml").read_bytes())
    template = tmp_path / "letter.j2"
    template.write_text(
        "Bonjour,\n\n{% for link in booking_links %}{{ link.action }} {{ link.url }}\n"
        "{% endfor %}\n{{ me.name }}\n"
    )
    config = tree.config().source
    config.write_text(
        config.read_text().replace('grace = "0"', f'grace = "0"\ntemplate = "{template}"')
    )
    table = CliRunner(env={"COLUMNS": "160"}).invoke(cli, ["--config", str(config), "invites"])
    assert "static ↗2" in table.stdout
    [invite] = json.loads(tree.cli("invites", "--json").stdout)
    cancel = next(link["url"] for link in invite["booking_links"] if link["action"] == "cancel")
    preview = tree.cli("preview", invite["id"])
    assert "without a calendar decline" in " ".join(preview.stderr.split())
    assert cancel in preview.stderr
    assert tree.cli("flag", invite["id"]).exit_code == 0
    done = tree.cli("run", "--once")
    assert f"to free the slot in Calendly, open {cancel}" in " ".join(done.stdout.split())
    [letter] = tree.received()
    assert not any(p.get_content_type() == "text/calendar" for p in letter.walk())
    assert f"cancel {cancel}" in letter.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert cancel in " ".join(tree.cli("log").stdout.split())
