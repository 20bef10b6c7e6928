"""Addresses in any script (SPEC 20) where the user types them, in the config and on the CLI,
and on the dry-run path: valid, never mangled; junk still refused. Also which messages need
SMTPUTF8 to be sent."""

from __future__ import annotations

import email
import email.policy
import mailbox
from pathlib import Path

import pytest

from decliner import config as cfg
from decliner.errors import ConfigError
from decliner.mail.smtp import needs_smtputf8
from tests.testbed.maildir_tree import SAM, Tree, invite, invites_json, outbox

ACCOUNT = """
[account]
name = "José Pérez"
email = "{email}"
aliases = [{aliases}]
timezone = "Europe/Berlin"

[imap]
host = "imap.example.com"
password = "pw"

[smtp]
host = "smtp.example.com"

[withdrawal]
cc = [{cc}]

[[cancel]]
uid = "x@example"
to = "{to}"
"""


def account(
    *, email: str = "jane@example.com", aliases: str = "", cc: str = "", to: str = "a@b.example"
) -> str:
    return ACCOUNT.format(email=email, aliases=aliases, cc=cc, to=to)


def test_the_config_takes_addresses_in_any_script() -> None:
    """account.email, account.aliases, withdrawal.cc and [[cancel]].to take non-ASCII local
    parts and domains and keep them as written; the user's addresses are matched in both
    IDNA spellings of a domain."""
    text = account(
        email="josé@empresa.es",
        aliases='"用户@例子.广告", "Jane@Bücher.example"',
        cc='"copia@empresa.es", "δοκιμή@παράδειγμα.δοκιμή"',
        to="用户@例子.广告",
    )
    config = cfg.parse(text, Path("c.toml"))
    assert config.account.email == "josé@empresa.es"
    assert config.account.aliases == ["用户@例子.广告", "Jane@Bücher.example"]
    assert config.withdrawal.cc == ["copia@empresa.es", "δοκιμή@παράδειγμα.δοκιμή"]
    assert config.cancel[0].to == "用户@例子.广告"
    assert {
        "josé@empresa.es",
        "用户@例子.广告",
        "用户@xn--fsqu00a.xn--4rr70v",
        "jane@bücher.example",
        "jane@xn--bcher-kva.example",
    } <= set(config.account.addresses)
    ascii_only = cfg.parse(account(aliases='"J.Doe@Example.org"'), Path("c.toml"))
    assert ascii_only.account.addresses == ("jane@example.com", "j.doe@example.org")


@pytest.mark.parametrize(
    "junk",
    ["josé", "josé@", "@empresa.es", "josé@@empresa.es", "jo sé@empresa.es", "josé@empresa"],
)
def test_the_config_still_refuses_junk_in_every_address_key(junk: str) -> None:
    """No @, two @, an empty part, a space or an undotted domain is an error in each key."""
    text = account(email=junk, aliases=f'"{junk}"', cc=f'"{junk}"', to=junk)
    with pytest.raises(ConfigError) as info:
        cfg.parse(text, Path("c.toml"))
    where = {line.split(": ")[1] for line in info.value.problems}
    assert where == {
        "[account].email",
        "[account].aliases[0]",
        "[withdrawal].cc[0]",
        "[[cancel]] #1.to",
    }
    assert all(f'"{junk}" is not an email address' in line for line in info.value.problems)


def test_the_config_refuses_control_characters_in_an_address() -> None:
    """A control character (here BEL and DEL, escaped in TOML) makes no address."""
    for junk in ("jos\\u0007é@empresa.es", "josé@empresa\\u007f.es", "josé\\r\\n@empresa.es"):
        with pytest.raises(ConfigError, match=r"\[account\]\.email"):
            cfg.parse(account(email=junk), Path("c.toml"))


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_flag_to_an_address_in_another_script_is_sent_as_written(tree: Tree) -> None:
    """`flag ID --to josé@empresa.es` is accepted, and the dry run (maildir transport) writes
    the withdrawal to exactly that address, in the envelope and raw in To."""
    tree.add(invite()[0])
    config = tree.config()
    assert tree.cli("run", "--once").exit_code == 0
    event_id = invites_json(tree)["g1@google.com"]["id"]
    flagged = tree.cli("flag", event_id, "--to", "josé@empresa.es")
    assert flagged.exit_code == 0, flagged.output
    assert invites_json(tree)["g1@google.com"]["recipient"] == "josé@empresa.es"
    result = tree.cli("run", "--once")
    assert result.exit_code == 0, result.output
    [row] = [r for r in outbox(config) if r.kind == "withdrawal"]
    assert row.state == "sent" and row.raw is not None
    box = mailbox.Maildir(tree.tmp / "outbox", create=False)
    [raw] = [box.get_bytes(key) for key in box.iterkeys()]
    assert raw.startswith(b"X-Envelope-From: jane.doe@example.com\r\n")
    assert "X-Envelope-To: josé@empresa.es\r\n".encode() in raw
    assert raw.endswith(row.raw)
    assert b"\r\nTo: jos\xc3\xa9@empresa.es\r\n" in row.raw
    message = email.message_from_bytes(row.raw, policy=email.policy.default)
    assert str(message["To"]) == "josé@empresa.es"
    assert SAM not in str(message["To"])


def test_flag_to_junk_is_refused(tree: Tree) -> None:
    """`flag --to` with a space or two @ in the address is a user error (exit 2)."""
    tree.add(invite()[0])
    tree.config()
    assert tree.cli("run", "--once").exit_code == 0
    event_id = invites_json(tree)["g1@google.com"]["id"]
    for junk in ("jo sé@empresa.es", "josé@@empresa.es"):
        result = tree.cli("flag", event_id, "--to", junk)
        assert result.exit_code == 2
        assert "is not an email address" in result.output


def test_which_messages_need_smtputf8() -> None:
    """A non-ASCII sender or recipient, or UTF-8 in the headers, needs SMTPUTF8, and the reason
    names it; an ASCII message with a quoted-printable body does not."""
    ascii_raw = b"From: a@b.example\r\nSubject: x\r\n\r\nZo=C3=AB\r\n"
    assert needs_smtputf8(ascii_raw, "a@b.example", ["c@d.example"]) == ""
    assert needs_smtputf8(b"x\r\n\r\n\xc3\xa9\r\n", "a@b.example", ["c@d.example"]) == ""
    assert needs_smtputf8(ascii_raw, "a@b.example", ["c@d.example", "josé@empresa.es"]) == (
        "the address josé@empresa.es"
    )
    assert needs_smtputf8(ascii_raw, "用户@例子.广告", []) == "the address 用户@例子.广告"
    utf8_head = "Cc: josé@empresa.es\r\n\r\nbody\r\n".encode()
    assert needs_smtputf8(utf8_head, "a@b.example", ["c@d.example"]) == (
        "the message's UTF-8 headers"
    )
