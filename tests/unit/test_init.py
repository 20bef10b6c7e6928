"""`decliner init`'s starter config: private, valid, never overwriting, the packaged example the
top-level one, and each known provider's servers filled in."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from decliner import config as cfg
from decliner.cli import providers, starter
from decliner.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def test_init_writes_a_private_valid_starter(tmp_path: Path) -> None:
    """`init` writes the example with --email filled in, mode 0600, parents created; check
    --offline accepts it and lists the lines still marked TODO; the next steps are printed."""
    path = tmp_path / "deep" / "er" / "config.toml"
    result = CliRunner().invoke(cli, ["init", "--email", "me@mine.example", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = cfg.load(path)
    assert config.account.email == "me@mine.example"
    assert f"decliner --config {path} check --offline" in result.stdout
    assert "[account].name" in result.stdout and "[imap].host" in result.stdout
    check = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert check.exit_code == 0, check.output
    assert "still marked TODO: [account].name" in check.output
    assert "[account].email" not in check.output  # filled in, so no longer marked


def test_init_never_overwrites(tmp_path: Path) -> None:
    """An existing file is left alone: exit 2 with a clear message."""
    path = tmp_path / "config.toml"
    path.write_text("mine\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(path)])
    assert result.exit_code == 2
    assert "already exists; not overwriting it" in result.stderr
    assert path.read_text(encoding="utf-8") == "mine\n"
    bad = CliRunner().invoke(cli, ["init", "--email", "not an address", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--email" in bad.stderr


def test_init_default_path_is_the_lookup_default(tmp_path: Path) -> None:
    """Without PATH, init writes where the config is looked up ($XDG_CONFIG_HOME here)."""
    runner = CliRunner(env={"DECLINER_CONFIG": "", "XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "xdg" / "decliner" / "config.toml"
    assert path.exists()
    assert "  2. decliner check --offline" in result.stdout
    assert runner.invoke(cli, ["check", "--offline"]).exit_code == 0


def test_packaged_example_is_the_top_level_one() -> None:
    """decliner/data/config.example.toml (what `init` writes) and config.example.toml are one
    text; edit the top-level one and copy it (cp config.example.toml decliner/data/)."""
    assert starter.example_text() == (ROOT / "config.example.toml").read_text(encoding="utf-8")
    assert (ROOT / "decliner" / "data" / "config.example.toml").read_bytes() == (
        ROOT / "config.example.toml"
    ).read_bytes()


DOMAINS = [(p, d) for p in providers.PROVIDERS for d in p.domains]


@pytest.mark.parametrize(("provider", "domain"), DOMAINS, ids=[f"{p.key}-{d}" for p, d in DOMAINS])
def test_init_fills_in_each_known_provider(
    tmp_path: Path, provider: providers.Provider, domain: str
) -> None:
    """For every domain in the table: the written [imap] and [smtp] are the provider's, the
    login advice is there, and once a secret source is filled in `check --offline` passes."""
    path = tmp_path / "config.toml"
    address = f"Jane.Doe@{domain.upper()}"  # domains match case-insensitively
    result = CliRunner().invoke(cli, ["init", "--email", address, str(path)])
    assert result.exit_code == 0, result.output
    assert f"Servers for {provider.name}: IMAP {provider.imap.host}" in result.stdout
    config = cfg.load(path)
    assert config.imap is not None
    imap, smtp = config.imap, config.smtp
    assert (imap.host, imap.port, imap.security) == tuple(vars_of(provider.imap))
    assert (smtp.host, smtp.port, smtp.security) == tuple(vars_of(provider.smtp))
    text = path.read_text(encoding="utf-8")
    assert provider.source.split(";")[0] in text
    assert "[imap].host" not in result.stdout and "[smtp].host" not in result.stdout
    if provider.key in ("gmail", "microsoft"):
        assert "# oauth2_token_command = " in text
        assert ("oama" if provider.key == "gmail" else "pizauth") in text
        assert provider.oauth2 and f'\noauth2 = "{provider.oauth2}"' in text
        assert f"\n[oauth2.{provider.oauth2}]\n" in text and "decliner login" in text
        assert config.imap.oauth2 == provider.oauth2 and provider.oauth2 in config.oauth2
        assert (
            f"[oauth2.{provider.oauth2}].client_id"
            in CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"]).output
        )  # still marked TODO until the user registers a client
    if provider.key == "proton":
        assert "Proton Mail Bridge" in text and "ca_file" in text
    filled = text.replace(
        'password_command = "pass show mail/jane"', 'password_env = "DECLINER_IMAP_PASSWORD"'
    )
    assert filled != text
    if provider.caldav:  # the commented [calendar] names the provider's CalDAV URL
        assert f'# url = "{provider.caldav.format(email=address)}"' in text
        filled = uncomment_calendar(filled)
    path.write_text(filled, encoding="utf-8")
    check = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert check.exit_code == 0, check.output
    assert "[imap].password_command" not in check.output
    assert cfg.load(path).calendar is not None or not provider.caldav


def uncomment_calendar(text: str) -> str:
    """The config with its commented [calendar] block made live (its keys, not its notes)."""
    lines = text.splitlines()
    start = lines.index("# [calendar]")
    for at in range(start, len(lines)):
        line = lines[at]
        if not line.startswith("# ") or line.startswith("# #"):
            if not line.startswith("# #"):
                break
            continue
        lines[at] = line[2:]
    return "\n".join(lines) + "\n"


def vars_of(server: providers.Server) -> tuple[str, int, str]:
    return server.host, server.port, server.security


@pytest.mark.parametrize(
    "address", ["jane@example.org", "jane@evilgmail.com", "jane@mail.gmail.com"]
)
def test_init_keeps_placeholders_for_an_unknown_domain(tmp_path: Path, address: str) -> None:
    """A domain not in the table (not even one that ends like a known one) keeps the
    placeholders marked TODO, and init says so."""
    path = tmp_path / "config.toml"
    result = CliRunner().invoke(cli, ["init", "--email", address, str(path)])
    assert result.exit_code == 0, result.output
    assert "Provider not recognised" in result.stdout
    assert "[imap].host" in result.stdout and "[smtp].host" in result.stdout
    assert cfg.load(path).imap.host == "imap.example.com"  # type: ignore[union-attr]


def test_init_provider_option_for_a_company_domain(tmp_path: Path) -> None:
    """Microsoft 365 on the company's own domain: --provider names it; an unknown name is a
    usage error listing the choices."""
    path = tmp_path / "config.toml"
    result = CliRunner().invoke(
        cli, ["init", "--email", "jane@acme.example", "--provider", "microsoft", str(path)]
    )
    assert result.exit_code == 0, result.output
    imap = cfg.load(path).imap
    assert imap is not None and imap.host == "outlook.office365.com"
    assert cfg.load(path).smtp.port == 587
    bad = CliRunner().invoke(cli, ["init", "--provider", "hotmale", str(tmp_path / "x.toml")])
    assert bad.exit_code == 2 and "gmail" in bad.stderr and "microsoft" in bad.stderr
