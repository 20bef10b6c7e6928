"""`decliner check` against the real Dovecot and aiosmtpd test bed."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from decliner.cli.main import cli
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.oauth import OAuthServer
from tests.testbed.smtpd import SmtpServers

pytestmark = pytest.mark.servers


def write_config(
    tmp_path: Path,
    dovecot: Dovecot,
    account: Account,
    *,
    imap_security: str = "plain",
    smtp_port: int,
    smtp_security: str = "plain",
    secret: str | None = None,
    ca_file: Path | None = None,
) -> Path:
    """A config for the test bed: same secret line for IMAP and SMTP (SMTP reuses it)."""
    imap_port = dovecot.imaps_port if imap_security == "tls" else dovecot.imap_port
    ca = ca_file or dovecot.ca_file
    secret_line = secret or f'password = "{account.password}"'
    text = f"""
[account]
name = "Jane Doe"
email = "{account.address}"
timezone = "Europe/Berlin"

[imap]
host = "127.0.0.1"
port = {imap_port}
security = "{imap_security}"
{secret_line}
ca_file = "{ca}"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "{smtp_security}"
ca_file = "{ca}"
timeout = "10s"
"""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_check(path: Path) -> Result:
    return CliRunner().invoke(cli, ["--config", str(path), "check"])


def assert_no_secret(result: Result, account: Account, dovecot: Dovecot) -> None:
    assert "CANARY" not in result.output
    assert account.password not in dovecot.log_text()


@pytest.mark.parametrize(
    ("imap_security", "smtp_variant"),
    [("plain", "plain"), ("starttls", "starttls"), ("tls", "tls")],
)
def test_check_passes_in_each_tls_mode(
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_servers: SmtpServers,
    account: Account,
    imap_security: str,
    smtp_variant: str,
) -> None:
    """`check` logs in to IMAP and SMTP with a password in plain, STARTTLS and TLS modes."""
    server = getattr(smtp_servers, smtp_variant)
    path = write_config(
        tmp_path,
        dovecot,
        account,
        imap_security=imap_security,
        smtp_port=server.port,
        smtp_security=smtp_variant,
    )
    result = run_check(path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("ok   config")
    imap_line = next(line for line in lines if " imap " in line)
    assert imap_line.startswith("ok")
    for capability in ("IDLE yes", "CONDSTORE yes", "SPECIAL-USE yes", "MOVE yes"):
        assert capability in imap_line
    smtp_line = next(line for line in lines if " smtp " in line)
    assert smtp_line.startswith("ok")
    assert "PLAIN" in smtp_line
    assert {"plain": "no TLS", "starttls": "STARTTLS", "tls": "over TLS"}[smtp_variant] in smtp_line
    assert_no_secret(result, account, dovecot)


def test_check_with_xoauth2(
    tmp_path: Path,
    dovecot: Dovecot,
    smtp_servers: SmtpServers,
    oauth_server: OAuthServer,
    account: Account,
) -> None:
    """With oauth2_token_command, both servers are logged in to with XOAUTH2."""
    token = oauth_server.issue(account.address)
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n", encoding="utf-8")
    path = write_config(
        tmp_path,
        dovecot,
        account,
        imap_security="starttls",
        smtp_port=smtp_servers.starttls.port,
        smtp_security="starttls",
        secret=f'oauth2_token_command = "cat {token_file}"',
    )
    smtp_servers.starttls.clear()
    result = run_check(path)
    assert result.exit_code == 0, result.output
    assert token in oauth_server.requests
    assert token not in result.output


def test_wrong_password_fails_with_one_line(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers, account: Account
) -> None:
    """A refused login is a FAIL line naming the server and user, exit 1, no secret."""
    wrong = "CANARY-wrong-password"
    path = write_config(
        tmp_path,
        dovecot,
        account,
        smtp_port=smtp_servers.plain.port,
        secret=f'password = "{wrong}"',
    )
    result = run_check(path)
    assert result.exit_code == 1
    imap_line = next(line for line in result.output.splitlines() if " imap " in line)
    assert imap_line.startswith("FAIL")
    assert f"login as {account.address} refused" in imap_line
    smtp_line = next(line for line in result.output.splitlines() if " smtp " in line)
    assert smtp_line.startswith("FAIL")
    assert "refused" in smtp_line
    assert "Traceback" not in result.output
    assert wrong not in result.output


def test_wrong_ca_fails(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers, account: Account
) -> None:
    """A server certificate not signed by a trusted CA fails verification on both servers."""
    path = write_config(
        tmp_path,
        dovecot,
        account,
        imap_security="tls",
        smtp_port=smtp_servers.tls.port,
        smtp_security="tls",
        ca_file=dovecot.other_ca_file,
    )
    result = run_check(path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(lines) == 2
    assert all("certificate verification failed" in line for line in lines), lines


def test_starttls_refused_when_not_offered(
    tmp_path: Path, dovecot: Dovecot, smtp_servers: SmtpServers, account: Account
) -> None:
    """`security = starttls` against an SMTP server without STARTTLS fails instead of sending in clear."""
    smtp_servers.plain.clear()
    path = write_config(
        tmp_path, dovecot, account, smtp_port=smtp_servers.plain.port, smtp_security="starttls"
    )
    result = run_check(path)
    assert result.exit_code == 1
    smtp_line = next(line for line in result.output.splitlines() if " smtp " in line)
    assert smtp_line.startswith("FAIL")
    assert "does not offer STARTTLS" in smtp_line
    assert smtp_servers.plain.messages == []


def test_unreachable_server(tmp_path: Path, dovecot: Dovecot, account: Account) -> None:
    """A closed port is a FAIL line saying the connection was refused, exit 1."""
    from tests.testbed.net import free_port

    port = free_port()
    path = write_config(tmp_path, dovecot, account, smtp_port=port)
    result = run_check(path)
    assert result.exit_code == 1
    smtp_line = next(line for line in result.output.splitlines() if " smtp " in line)
    assert f"SMTP 127.0.0.1:{port}" in smtp_line


def test_offline_does_not_connect(tmp_path: Path, dovecot: Dovecot, account: Account) -> None:
    """`check --offline` validates without touching any server."""
    path = write_config(tmp_path, dovecot, account, smtp_port=1)
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert result.exit_code == 0, result.output
    assert " imap " not in result.output
