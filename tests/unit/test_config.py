"""Config loading and validation: every problem reported, one line each, exit 2."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from decliner import config as cfg
from decliner.cli.main import cli
from decliner.config import Config
from decliner.errors import ConfigError, UserError

CANARY = "CANARY-pw-7f3a9"

GOOD = f"""
[account]
name = "Jane Doe"
email = "jane@example.com"
timezone = "Europe/Berlin"

[imap]
host = "imap.example.com"
password = "{CANARY}"

[smtp]
host = "smtp.example.com"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_minimal_config_gets_spec_defaults(tmp_path: Path) -> None:
    """A minimal config loads with every default SPEC gives."""
    config = cfg.load(write(tmp_path, GOOD))
    assert config.imap is not None
    assert (config.imap.effective_port, config.imap.security) == (993, "tls")
    assert config.imap.folders == ["INBOX"]
    assert (config.imap.flag_keyword, config.imap.flag_folder) == ("Decline", "Decline")
    assert config.imap.poll_interval == timedelta(seconds=60)
    assert config.smtp.effective_port == 465
    assert config.withdrawal.grace == timedelta(minutes=5)
    assert config.withdrawal.min_notice == timedelta(hours=24)
    assert config.followup.delay == timedelta(days=1)
    assert config.followup.hours == (time(9), time(17))
    assert config.followup.business_days == ["mon", "tue", "wed", "thu", "fri"]
    assert config.cancel == []


@pytest.mark.parametrize(("security", "port"), [("tls", 993), ("starttls", 143), ("plain", 143)])
def test_imap_port_default_follows_security(tmp_path: Path, security: str, port: int) -> None:
    """The IMAP port defaults to 993 for tls and 143 otherwise."""
    text = replace(
        GOOD, 'host = "imap.example.com"', f'host = "127.0.0.1"\nsecurity = "{security}"'
    )
    config = cfg.load(write(tmp_path, text))
    assert config.need_imap().effective_port == port


@pytest.mark.parametrize(("security", "port"), [("tls", 465), ("starttls", 587), ("plain", 25)])
def test_smtp_port_default_follows_security(tmp_path: Path, security: str, port: int) -> None:
    """The SMTP port defaults to 465, 587 or 25 by security mode."""
    text = replace(
        GOOD, 'host = "smtp.example.com"', f'host = "localhost"\nsecurity = "{security}"'
    )
    assert cfg.load(write(tmp_path, text)).smtp.effective_port == port


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("4h", timedelta(hours=4)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
        ("0", timedelta(0)),
        (" 2W ", timedelta(weeks=2)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    """Duration strings parse to exact timedeltas."""
    assert cfg.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "5", "5 minutes", "m5", "-5m", "1.5h", "5m 3s", 300])
def test_bad_durations(text: object) -> None:
    """Anything but number+unit groups (or "0") is refused."""
    with pytest.raises(ValueError, match="duration"):
        cfg.parse_duration(text)


# (name, edit to GOOD, the "[section].key" that must be named)
BAD = [
    (
        "unknown key",
        ('timezone = "Europe/Berlin"', 'timezone = "Europe/Berlin"\ncolour = "red"'),
        "[account].colour",
    ),
    ("unknown section", ("[smtp]", "[smpt]\nhost = 1\n[smtp]"), "[smpt]"),
    ("missing name", ('name = "Jane Doe"', ""), "[account].name"),
    ("bad email", ('email = "jane@example.com"', 'email = "jane at example"'), "[account].email"),
    ("bad zone", ('"Europe/Berlin"', '"Europe/Atlantis"'), "[account].timezone"),
    ("port as string", ('password = "', 'port = "993"\npassword = "'), "[imap].port"),
    ("port out of range", ('password = "', 'port = 70000\npassword = "'), "[imap].port"),
    ("bad security", ('password = "', 'security = "ssl"\npassword = "'), "[imap].security"),
    ("two secrets", ('password = "', 'password_env = "PW"\npassword = "'), "[imap].password_env"),
    ("no secret", (f'password = "{CANARY}"', ""), "[imap].password"),
    ("plain off loopback", ('password = "', 'security = "plain"\npassword = "'), "[imap].security"),
    (
        "smtp plain off loopback",
        ('host = "smtp.example.com"', 'host = "smtp.example.com"\nsecurity = "plain"'),
        "[smtp].security",
    ),
    (
        "bad duration",
        ("[smtp]", '[withdrawal]\ngrace = "five minutes"\n[smtp]'),
        "[withdrawal].grace",
    ),
    (
        "bool as string",
        ("[smtp]", '[withdrawal]\nattach_decline = "yes"\n[smtp]'),
        "[withdrawal].attach_decline",
    ),
    (
        "bad weekday",
        ("[smtp]", '[followup]\nbusiness_days = ["mon", "caturday"]\n[smtp]'),
        "[followup].business_days[1]",
    ),
    (
        "hours backwards",
        ("[smtp]", '[followup]\nbusiness_hours = "17:00-09:00"\n[smtp]'),
        "[followup].business_hours",
    ),
    (
        "hours garbage",
        ("[smtp]", '[followup]\nbusiness_hours = "nine to five"\n[smtp]'),
        "[followup].business_hours",
    ),
    (
        "keyword with space",
        ('password = "', 'flag_keyword = "Not me"\npassword = "'),
        "[imap].flag_keyword",
    ),
    ("empty folders", ('password = "', 'folders = []\npassword = "'), "[imap].folders"),
    (
        "cancel without target",
        ("[smtp]", '[[cancel]]\nreason = "moved on"\n[smtp]'),
        "[[cancel]] #1",
    ),
    (
        "cancel bad to",
        ("[smtp]", '[[cancel]]\nuid = "x"\nto = "not an address"\n[smtp]'),
        "[[cancel]] #1.to",
    ),
    ("no smtp host", ('host = "smtp.example.com"', ""), "[smtp].host"),
    (
        "maildir transport without path",
        ('host = "smtp.example.com"', 'transport = "maildir"'),
        "[smtp].maildir_path",
    ),
    ("imap and maildir", ("[smtp]", '[maildir]\npath = "/tmp/m"\n[smtp]'), "[maildir]"),
    ("section not a table", ("[account]", "state = 3\n[account]"), "[state]"),
    ("unknown language", ('timezone = "Europe/Berlin"', 'language = "sv"'), "[account].language"),
    ("unknown holidays", ("[smtp]", '[followup]\nholidays = "XX"\n[smtp]'), "[followup].holidays"),
    (
        "calendar over http",
        ("[smtp]", '[calendar]\nurl = "http://dav.example/"\n[smtp]'),
        "[calendar].url",
    ),
    (
        "cancel language",
        ("[smtp]", '[[cancel]]\nuid = "x"\nlanguage = "english"\n[smtp]'),
        "[[cancel]] #1.language",
    ),
]


@pytest.mark.parametrize(("name", "edit", "key"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_exits_2_naming_file_and_key(
    tmp_path: Path, name: str, edit: tuple[str, str], key: str
) -> None:
    """Each broken config exits 2 with a line `FILE: [section].key: ...`, and no secret."""
    path = write(tmp_path, replace(GOOD, *edit), "my-config.toml")
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"{path}: {key}: ") for line in lines), lines
    assert "Traceback" not in result.output
    assert CANARY not in result.output


def test_language_errors_name_the_seven_choices(tmp_path: Path) -> None:
    """An unknown language is an error that lists en, de, fr, es, it, nl, pt and "auto";
    every one of them, and a holidays code with a subdivision, is accepted."""
    text = replace(GOOD, 'timezone = "Europe/Berlin"', 'language = "sv"')
    with pytest.raises(ConfigError) as info:
        cfg.parse(text, Path("c.toml"))
    assert (
        "en, de, fr, es, it, nl, pt" in info.value.problems[0]
        and '"auto"' in info.value.problems[0]
    )
    for language in ("en", "de", "fr", "es", "it", "nl", "pt", "auto"):
        good = replace(GOOD, 'timezone = "Europe/Berlin"', f'language = "{language}"')
        assert cfg.parse(good + '[followup]\nholidays = "GB-SCT"\n', Path("c.toml"))


def test_three_problems_are_all_reported(tmp_path: Path) -> None:
    """Problems in one section and across sections are all listed, one line each."""
    text = replace(GOOD, 'timezone = "Europe/Berlin"', 'timezone = "Nowhere/Land"\nnickname = "J"')
    text = replace(text, 'password = "', 'password_file = "pw"\npassword = "')
    with pytest.raises(ConfigError) as info:
        cfg.parse(text, Path("c.toml"))
    assert info.value.problems == [
        "c.toml: [account].nickname: unknown key",
        'c.toml: [account].timezone: unknown time zone "Nowhere/Land"; use an IANA name such as "Europe/Berlin"',
        "c.toml: [imap].password_file: give only one secret source, not password and password_file",
    ]


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error is one line naming the file and position."""
    path = write(tmp_path, GOOD + "\n[imap\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}: invalid TOML:")
    assert "line" in result.stderr


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A config path that does not exist exits 2 and says how to create one."""
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "nope.toml"), "check", "--offline"]
    )
    assert result.exit_code == 2
    assert "no such config file" in result.stderr
    assert "decliner init" in result.stderr


def test_lookup_order(tmp_path: Path) -> None:
    """--config beats $DECLINER_CONFIG, which beats the XDG default."""
    env_path = write(tmp_path, GOOD, "env.toml")
    xdg = tmp_path / "xdg"
    assert cfg.default_path({"DECLINER_CONFIG": str(env_path)}) == env_path
    runner = CliRunner(env={"DECLINER_CONFIG": str(env_path), "XDG_CONFIG_HOME": str(xdg)})
    assert runner.invoke(cli, ["check", "--offline"]).exit_code == 0
    broken = write(tmp_path, "[account]\n", "flag.toml")
    result = runner.invoke(cli, ["--config", str(broken), "check", "--offline"])
    assert result.exit_code == 2
    assert str(broken) in result.stderr
    runner = CliRunner(env={"DECLINER_CONFIG": "", "XDG_CONFIG_HOME": str(xdg)})
    result = runner.invoke(cli, ["check", "--offline"])
    assert str(xdg / "decliner" / "config.toml") in result.stderr


def test_example_config_loads_and_documents_every_key() -> None:
    """config.example.toml is valid and mentions every key of every section."""
    path = Path(__file__).parents[2] / "config.example.toml"
    config = cfg.load(path)
    assert config.imap is not None
    text = path.read_text(encoding="utf-8")
    sections: dict[str, type[BaseModel]] = {
        "account": cfg.AccountConfig,
        "imap": cfg.ImapConfig,
        "maildir": cfg.MaildirConfig,
        "smtp": cfg.SmtpConfig,
        "withdrawal": cfg.WithdrawalConfig,
        "followup": cfg.FollowupConfig,
        "calendar": cfg.CalendarConfig,
        "state": cfg.StateConfig,
        "cancel": cfg.CancelEntry,
    }
    for section, model in sections.items():
        assert f"[{section}]" in text
        for key in model.model_fields:
            documented = f"{key} = " in text or f"# {key} = " in text
            assert documented, f"[{section}].{key} is not documented"
    for key in cfg.OAuth2Client.model_fields:
        assert f"# {key} = " in text, f"[oauth2.*].{key} is not documented"
    assert "[oauth2.google]" in text and "[oauth2.microsoft]" in text
    assert set(sections) == set(Config.model_fields) - {"source", "oauth2"}


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    """state.path and other relative paths are anchored at the config file, not the cwd."""
    text = GOOD + '\n[state]\npath = "data/state.db"\n'
    config = cfg.load(write(tmp_path, text))
    assert config.state_path() == tmp_path / "data" / "state.db"


def test_state_path_under_systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no [state].path, systemd's $STATE_DIRECTORY holds decliner.db."""
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/decliner")
    assert cfg.load(write(tmp_path, GOOD)).state_path() == Path("/var/lib/decliner/decliner.db")


def test_loopback_hosts() -> None:
    """Only names and addresses of this machine count as loopback."""
    assert all(map(cfg.is_loopback, ["localhost", "127.0.0.1", "127.8.9.1", "::1", "[::1]"]))
    assert not any(map(cfg.is_loopback, ["example.com", "10.0.0.1", "localhost.evil.com", "::2"]))


def test_secret_never_in_repr(tmp_path: Path) -> None:
    """A literal password does not show in the config's repr or dump."""
    config = cfg.load(write(tmp_path, GOOD))
    assert CANARY not in repr(config)
    assert CANARY not in str(config.model_dump())


def test_need_imap_with_maildir(tmp_path: Path) -> None:
    """IMAP-only code paths refuse a Maildir config with a clear user error."""
    text = replace(GOOD, "[imap]", '[maildir]\npath = "m"\n[unused]').replace("[unused]\n", "")
    text = text.replace(f'host = "imap.example.com"\npassword = "{CANARY}"\n', "")
    text = replace(text, 'host = "smtp.example.com"', 'transport = "maildir"\nmaildir_path = "out"')
    config = cfg.load(write(tmp_path, text))
    with pytest.raises(UserError, match=r"\[imap\]"):
        config.need_imap()


def test_check_reports_template_errors_with_file_and_line(tmp_path: Path) -> None:
    """`check --offline` renders a user template against a sample event: a typo is a FAIL naming file:line."""
    template = tmp_path / "mine.txt.j2"
    template.write_text(
        "Subject: Withdrawing\n\nHi {{ recipient.name }},\n\n{{ evnt.summary }}\n", encoding="utf-8"
    )
    text = GOOD + f'\n[withdrawal]\ntemplate = "{template.name}"\n'
    path = write(tmp_path, text)
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if " templates " in x)
    assert line.startswith("FAIL")
    assert f"{template}:5" in line
    assert "evnt" in line
    template.write_text("{{ ''.__class__.__mro__ }}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert result.exit_code == 1
    template.write_text(
        "Hi {{ recipient.name }}, I withdraw from {{ event.summary }}.\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert result.exit_code == 0, result.output


def test_check_offline_reports_the_state_db(tmp_path: Path) -> None:
    """`check --offline` names the state db, and says when it does not exist yet."""
    path = write(tmp_path, GOOD + f'\n[state]\npath = "{tmp_path / "s.db"}"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    line = next(x for x in result.output.splitlines() if " state " in x)
    assert line.startswith("ok") and "not created yet" in line
    assert not (tmp_path / "s.db").exists()


def test_check_warns_when_others_may_read_the_config(tmp_path: Path) -> None:
    """`check --offline` warns about a config other users may read, and not about 0600."""
    path = write(tmp_path, GOOD)
    path.chmod(0o644)
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert "readable by other users (mode 0644)" in " ".join(result.stdout.split())
    path.chmod(0o600)
    result = CliRunner().invoke(cli, ["--config", str(path), "check", "--offline"])
    assert "readable by other users" not in result.stdout
