"""The quiet check of `run --once` (issue 28): it ends a run only when a full pass would do
nothing, and otherwise fails as the full pass fails. Dovecot, aiosmtpd, the console
script in its own interpreter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from decliner.store import Store
from decliner.store import seal as seal_db
from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text
from tests.testbed.imap_inbox import invite, plain_mail
from tests.testbed.oauth import OAuthServer
from tests.testbed.proxy import Proxy
from tests.testbed.quiet_runs import RunOnce, run_once
from tests.testbed.world import World

pytestmark = pytest.mark.servers

NOTHING = "read 0 new message(s) in 2 folder(s); 0 invitation(s) found\n"


def _edit(config: Path) -> None:
    """Change the config file's bytes, not its meaning."""
    config.write_text(config.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def _sealed(config: Path) -> RunOnce:
    """A full pass, then a quiet one: the quiet one's result."""
    first = run_once(config)
    assert (first.code, first.validated) == (0, True), first
    quiet = run_once(config)
    assert (quiet.code, quiet.quiet, quiet.out) == (0, True, NOTHING), quiet
    return quiet


def test_nothing_new_ends_in_the_quiet_check_in_the_full_pass_words(world: World) -> None:
    """After a pass that read an invitation, the next `run --once` ends without validating
    the config and prints what a full pass over the same mailbox prints; a config whose
    bytes changed is validated again, then sealed again."""
    config = world.config().source
    world.invite("quiet1@acme", flagged=False)
    first = run_once(config)
    assert first.validated and "1 invitation(s) found" in first.out
    quiet = run_once(config)
    assert quiet.quiet and (quiet.code, quiet.out, quiet.err) == (0, NOTHING, "")
    with Store.open_readonly(world.tmp / "state.db") as store:
        sealed = seal_db.read(store.connection)
    assert sealed is not None and sealed.plan["secret"] == ["password", ""]
    assert sealed.plan["folders"] == ["INBOX", "Decline"]
    assert world.jane.password not in json.dumps(sealed.plan)
    _edit(config)
    full = run_once(config)
    assert full.validated and (full.code, full.out, full.err) == (0, NOTHING, "")
    assert run_once(config).quiet


QUIET_MODULES = (
    "decliner",
    "decliner.cli",
    "decliner.cli.entry",
    "decliner.cli.pass_output",
    "decliner.config",
    "decliner.config.paths",
    "decliner.config.secret_sources",
    "decliner.errors",
    "decliner.logs",
    "decliner.mail",
    "decliner.mail.imap",
    "decliner.mail.imap.endpoint",
    "decliner.mail.imap.examine",
    "decliner.mail.ports",
    "decliner.service",
    "decliner.service.quiet_pass",
    "decliner.service.report",
    "decliner.store",
    "decliner.store.db",
    "decliner.store.mailbox",
    "decliner.store.schema",
    "decliner.store.seal",
    "decliner.tls",
)


def test_the_quiet_check_loads_only_what_it_uses(world: World) -> None:
    """A quiet run imports these 23 of decliner's modules and neither click, nor
    imapclient, nor pydantic (a module added to the quiet path shows up here); a full
    pass loads all three."""
    config = world.config().source
    world.invite("quiet0@acme", flagged=False)
    full = run_once(config)
    quiet = run_once(config)
    assert quiet.quiet and quiet.loaded == QUIET_MODULES
    assert {"click", "imapclient", "decliner.config.schema"} <= set(full.loaded)


def test_new_mail_and_a_flag_keyword_each_get_a_full_pass(world: World) -> None:
    """A message delivered, then the flag keyword set in the mail client: each next run is
    a full pass; the withdrawal goes out at once (grace 0) and, while its follow-up waits,
    every run stays a full pass."""
    config = world.config().source
    uid, _ = world.invite("quiet2@acme", flagged=False)
    _sealed(config)
    world.dovecot.append(world.jane, "INBOX", plain_mail(1))
    after_mail = run_once(config)
    assert after_mail.validated and after_mail.out.startswith("read 1 new message(s)")
    assert run_once(config).quiet
    world.dovecot.set_keyword(world.jane, "INBOX", uid, "Decline")
    flagged = run_once(config)
    assert flagged.validated and "sent" in flagged.out, flagged
    assert len(world.sent_by_jane()) == 1
    waiting = run_once(config)  # the follow-up is scheduled: work is open
    assert waiting.validated and waiting.code == 0
    assert len(world.sent_by_jane()) == 1


def test_a_flag_from_the_command_line_gets_a_full_pass(world: World) -> None:
    """`decliner flag` writes only the state db: the next run sees the write and sends."""
    config = world.config().source
    world.invite("quiet3@acme", flagged=False)
    _sealed(config)
    listed = world.cli("invites", "--json", "--cached")
    assert listed.exit_code == 0, listed.output
    (event,) = json.loads(listed.output)
    assert world.cli("flag", event["id"]).exit_code == 0
    flagged = run_once(config)
    assert flagged.validated and "sent" in flagged.out, flagged
    assert len(world.sent_by_jane()) == 1


def _password_file_config(world: World, secret: Path) -> Path:
    text = config_text(world.dovecot, world.jane, world.tmp, smtp_port=world.smtp.plain.port)
    text = text.replace(f'password = "{world.jane.password}"', f'password_file = "{secret}"')
    config = world.tmp / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_the_quiet_check_fails_as_the_full_pass_fails(world: World) -> None:
    """A refused login (the password file changed) and a running daemon (the lock held):
    the quiet check exits with the full pass's status and its very words."""
    secret = world.tmp / "imap-password"
    secret.write_text(world.jane.password + "\n", encoding="utf-8")
    config = _password_file_config(world, secret)
    world.invite("quiet4@acme", flagged=False)
    _sealed(config)
    secret.write_text("not-the-password\n", encoding="utf-8")
    quiet = run_once(config)
    assert quiet.quiet and quiet.code == 1
    assert "login as" in quiet.err and "refused" in quiet.err, quiet.err
    assert "not-the-password" not in quiet.err
    _edit(config)
    full = run_once(config)
    assert full.validated and (full.code, full.err) == (quiet.code, quiet.err)

    secret.write_text(world.jane.password + "\n", encoding="utf-8")
    _sealed(config)
    with Store.open(world.tmp / "state.db") as holder:
        holder.lock_daemon()
        quiet = run_once(config)
        _edit(config)
        full = run_once(config)
    assert quiet.quiet and full.validated
    assert quiet.code == full.code != 0
    assert quiet.err == full.err and "already running" in quiet.err, (quiet.err, full.err)


def test_a_password_command_runs_once_per_run(world: World) -> None:
    """When the quiet check finds new mail, the full pass logs in with the secret it
    fetched: a password manager is asked once per `run --once`."""
    asked = world.tmp / "asked"
    text = config_text(world.dovecot, world.jane, world.tmp, smtp_port=world.smtp.plain.port)
    command = f"echo asked >> {asked}; echo {world.jane.password}"
    text = text.replace(f'password = "{world.jane.password}"', f'password_command = "{command}"')
    config = world.tmp / "config.toml"
    config.write_text(text, encoding="utf-8")
    world.invite("quiet5@acme", flagged=False)
    _sealed(config)
    assert asked.read_text().count("asked") == 2
    world.dovecot.append(world.jane, "INBOX", plain_mail(2))
    full = run_once(config)
    assert full.validated and full.out.startswith("read 1 new message(s)")
    assert asked.read_text().count("asked") == 3


def _quiet_check_cost(dovecot: Dovecot, workdir: Path, size: int) -> tuple[list[str], int]:
    """The IMAP commands and bytes from the server of a quiet `run --once` over a mailbox
    of `size` invitations and as many other messages."""
    account = dovecot.new_account("quietcost")
    messages = [invite(f"c{n}@acme", "20270110T140000Z") for n in range(size)]
    messages += [plain_mail(n) for n in range(size)]
    with dovecot.imap(account) as client:
        client.multiappend("INBOX", messages)
    workdir.mkdir()
    with Proxy(dovecot.imap_port) as proxy:
        config = workdir / "config.toml"
        text = config_text(
            dovecot, account, workdir, me="jane.doe@example.com", imap_port=proxy.port
        )
        config.write_text(text, encoding="utf-8")
        _sealed(config)
        proxy.reset()
        assert run_once(config).quiet
        return list(proxy.commands), proxy.bytes_down


def test_the_quiet_check_costs_the_same_at_any_size(tmp_path: Path, dovecot: Dovecot) -> None:
    """At 20 and at 200 known invitations, the quiet check sends the same six commands
    (imaplib's CAPABILITY, LOGIN, ENABLE CONDSTORE, an EXAMINE per folder, LOGOUT; the
    capabilities after login come with Dovecot's answer to it) and reads the same
    bytes but a few digits of the counts."""
    small = _quiet_check_cost(dovecot, tmp_path / "small", 20)
    big = _quiet_check_cost(dovecot, tmp_path / "big", 200)
    assert small[0] == big[0] == ["CAPABILITY", "LOGIN", "ENABLE", "EXAMINE", "EXAMINE", "LOGOUT"]
    assert small[1] <= big[1] <= small[1] + 16, (small, big)


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_the_quiet_check_verifies_the_server_as_the_full_pass_does(
    world: World, security: str
) -> None:
    """Over TLS and STARTTLS with the config's ca_file: sealed, the quiet check ends the run;
    once the CA file holds another CA, it refuses the server in the full pass's words."""
    ca_file = world.tmp / "ca.pem"
    ca_file.write_bytes(world.dovecot.ca_file.read_bytes())
    text = config_text(world.dovecot, world.jane, world.tmp, smtp_port=world.smtp.plain.port)
    port = world.dovecot.imaps_port if security == "tls" else world.dovecot.imap_port
    imap = f'port = {port}\nsecurity = "{security}"\nca_file = "{ca_file}"\n'
    text = text.replace(f'port = {world.dovecot.imap_port}\nsecurity = "plain"\n', imap, 1)
    config = world.tmp / "config.toml"
    config.write_text(text, encoding="utf-8")
    world.invite("quiet6@acme", flagged=False)
    _sealed(config)
    ca_file.write_bytes(world.dovecot.other_ca_file.read_bytes())
    quiet = run_once(config)
    _edit(config)
    full = run_once(config)
    assert quiet.quiet and full.validated
    assert (quiet.code, quiet.err) == (full.code, full.err) == (1, quiet.err), (quiet, full)
    assert "certificate verification failed" in quiet.err


def test_a_token_command_logs_the_quiet_check_in_by_oauthbearer(
    world: World, oauth_server: OAuthServer
) -> None:
    """With `oauth2_token_command`, the quiet check logs in as the full pass does (Dovecot
    offers OAUTHBEARER); a revoked token is refused in the full pass's words."""
    token = oauth_server.issue(world.jane.address)
    token_file = world.tmp / "token"
    token_file.write_text(token + "\n", encoding="utf-8")
    text = config_text(world.dovecot, world.jane, world.tmp, smtp_port=world.smtp.plain.port)
    secret = f'oauth2_token_command = "cat {token_file}"'
    config = world.tmp / "config.toml"
    config.write_text(text.replace(f'password = "{world.jane.password}"', secret), encoding="utf-8")
    world.invite("quiet7@acme", flagged=False)
    _sealed(config)
    assert world.dovecot.login_methods(world.jane)[-2:] == ["OAUTHBEARER", "OAUTHBEARER"]
    oauth_server.revoke(token)
    quiet = run_once(config)
    _edit(config)
    full = run_once(config)
    assert quiet.quiet and full.validated
    assert (quiet.code, quiet.err) == (full.code, full.err) == (1, quiet.err), (quiet, full)
    assert "refused" in quiet.err and token not in quiet.err
