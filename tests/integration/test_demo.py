"""`decliner demo` end to end in a temp dir, and `decliner init`'s starter config."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from decliner import config as cfg
from decliner.cli import providers, starter
from decliner.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_the_whole_flow(tmp_path: Path) -> None:
    """The demo builds its sandbox, withdraws, logs the reply, follows up, and prints what the
    recruiter received; the printed config then works with the other commands."""
    sandbox = tmp_path / "sandbox"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(sandbox), "--followup-delay", "2s"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    withdrawal = out.split("----- the withdrawal -----")[1].split("-----\n")[0]
    followup = out.split("----- the follow-up -----")[1].split("-----\n")[0]
    assert "To: Priya Raman <priya@acme.example>" in withdrawal
    assert "In-Reply-To: <" in withdrawal and "I have accepted another offer." in withdrawal
    assert "REPLY, jane.doe@example.com DECLINED" in withdrawal
    assert "Thank you for your reply." in followup
    assert "Subject: Re: Invitation: Interview – Acme" in followup
    assert "logged 1 reply(ies)" in out
    config = sandbox / "config.toml"
    assert f"--config {config}" in out
    rows = json.loads(
        CliRunner().invoke(cli, ["--config", str(config), "invites", "--json"]).stdout
    )
    status = {r["summary"]: (r["status"], r["flagged_by"]) for r in rows}
    assert status == {
        "Interview – Acme": ("confirmed", "folder"),
        "Technical screen - Initech": ("upcoming", None),  # the F flag withdraws nobody
        "Onsite loop (Globex)": ("upcoming", None),
    }
    assert next(r for r in rows if "Globex" in r["summary"])["recipient"] == "sam@globex.example"
    log = json.loads(CliRunner().invoke(cli, ["--config", str(config), "log", "--json"]).stdout)
    assert [(r["kind"], r["state"]) for r in log] == [
        ("withdrawal", "sent"),
        ("calendar", "sent"),  # Radicale is installed with the tests: the demo starts one
        ("reply", "received"),
        ("followup", "sent"),
    ]
    own = out.split("6. Your own calendar")[1].split("7. Priya answers")[0]
    assert "PARTSTAT=NEEDS-ACTION" in own.replace("\n", "")
    assert "PARTSTAT=DECLINED" in own.replace("\n", "")
    assert "# [calendar]" in config.read_text(encoding="utf-8")  # its server is gone
    check = CliRunner().invoke(cli, ["--config", str(config), "check"])
    assert check.exit_code == 0, check.output


def test_demo_refuses_a_used_directory_and_can_clean_up(tmp_path: Path) -> None:
    """--dir must be new or empty (exit 2, nothing touched); --no-keep removes the sandbox."""
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(used), "--no-keep"])
    assert result.exit_code == 2
    assert "not an empty directory" in result.stderr
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
    gone = tmp_path / "gone"
    result = CliRunner().invoke(
        cli, ["demo", "--dir", str(gone), "--no-keep", "--followup-delay", "1s"]
    )
    assert result.exit_code == 0, result.output
    assert not gone.exists()
    assert "----- the follow-up -----" in result.stdout


def test_init_writes_a_private_valid_starter(tmp_path: Path) -> None:
    """init writes the example with --email filled in, mode 0600, parents created; check
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
    text; edit the top-level one and copy it: cp config.example.toml decliner/data/"""
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
        assert "# oauth2_token_command = " in text and "app password" in text
        assert ("oama" if provider.key == "gmail" else "pizauth") in text
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


def test_demo_without_radicale_says_how_to_see_the_calendar_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where Radicale is not installed the demo still runs, and says how to see step 6."""
    from decliner.cli import demo_calendar

    monkeypatch.setattr(demo_calendar, "available", lambda: False)
    sandbox = tmp_path / "sandbox"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(sandbox), "--followup-delay", "1s"])
    assert result.exit_code == 0, result.output
    assert "pip install radicale" in " ".join(result.stdout.split())
    assert "[calendar]" not in (sandbox / "config.toml").read_text(encoding="utf-8")
