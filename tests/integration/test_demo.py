"""`decliner demo` end to end in a temp dir (it starts a Radicale when one is installed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from decliner.cli.main import cli


def test_demo_runs_the_whole_flow(tmp_path: Path) -> None:
    """The demo builds its sandbox, withdraws, logs the reply, follows up, and prints what the
    recruiter received, and ends with how to open the review page on the sandbox; the
    printed config then works with the other commands."""
    sandbox = tmp_path / "sandbox"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(sandbox), "--followup-delay", "2s"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    withdrawal = out.split("----- the withdrawal -----")[1].split("-----\n")[0]
    followup = out.split("----- the follow-up -----")[1].split("-----\n")[0]
    assert "To: Priya Raman <priya@acme.example>" in withdrawal
    assert "In-Reply-To: <" in withdrawal and "I have accepted another offer." in " ".join(
        withdrawal.split()
    )
    assert "REPLY, jane.doe@example.com DECLINED" in withdrawal
    assert "Thank you for your reply." in followup
    assert "Subject: Re: Invitation: Interview – Acme" in followup
    assert "logged 1 reply(ies)" in out
    config = sandbox / "config.toml"
    assert f"--config {config}" in out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("See it all on the review page in your browser: ")
    assert last.endswith(f" --config {config} web --open")
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
