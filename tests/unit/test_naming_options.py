"""What the user gives about an interview (SPEC 18, 19): `flag --scope/--role/--company` and
`[[cancel]]` scope/role/company, validated, stored (migration 6), shown by `preview` with
where each came from, listed by `invites --json`, and handed to a custom template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from decliner import config as cfg
from decliner.errors import ConfigError
from decliner.store import Store
from decliner.store import flags as flag_db
from decliner.store import schema as store_schema
from tests.testbed.maildir_tree import Tree
from tests.testbed.titles import CORPUS

SCREEN = "05-greenhouse-phone-screen.eml"  # Initech, Senior Backend Engineer, from the subject
TEMPLATE = "Subject: Withdrawal\n\nHello,\n\nthe {{ role }} role at {{ company }}: no longer.\n"


def listed(tree: Tree) -> dict[str, Any]:
    [row] = json.loads(tree.cli("invites", "--all", "--json").stdout)
    found: dict[str, Any] = row
    return found


def with_template(tree: Tree, extra: str = "") -> None:
    template = tree.tmp / "letter.j2"
    template.write_text(TEMPLATE, encoding="utf-8")
    source = tree.config(extra).source
    text = source.read_text().replace('grace = "0"', f'grace = "0"\ntemplate = "{template}"')
    source.write_text(text)


def test_found_values_are_previewed_with_their_source(tmp_path: Path) -> None:
    """Without anything given, `preview` says what it found and where, and `invites --json`
    lists the same."""
    tree = Tree(tmp_path)
    tree.add((CORPUS / SCREEN).read_bytes())
    tree.config()
    row = listed(tree)
    assert (row["role"], row["company"], row["process"]) == (
        "Senior Backend Engineer",
        "Initech",
        row["id"],
    )
    notes = tree.cli("preview", row["id"]).stderr
    assert "role: Senior Backend Engineer (from the subject)" in notes
    assert "company: Initech (from the subject)" in notes


def test_the_flag_gives_role_company_and_scope(tmp_path: Path) -> None:
    """`flag --role --company --scope` is stored with the CLI flag, wins over what the
    invitation says, shows in `invites --json` and `preview`, and reaches the letter."""
    tree = Tree(tmp_path)
    tree.add((CORPUS / SCREEN).read_bytes())
    with_template(tree)
    eid = listed(tree)["id"]
    result = tree.cli(
        "flag", eid, "--role", "Platform Engineer", "--company", "Initech Labs", "--scope",
        "interview",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    row = listed(tree)
    assert (row["role"], row["company"]) == ("Platform Engineer", "Initech Labs")
    notes = tree.cli("preview", eid).stderr
    assert "role: Platform Engineer (from the flag)" in notes
    assert "company: Initech Labs (from the flag)" in notes
    config = cfg.load(tmp_path / "config.toml")
    with Store.open(config.state_path()) as store:
        [stored] = flag_db.all_flags(store.connection)
    assert (stored.scope, stored.role, stored.company) == (
        "interview",
        "Platform Engineer",
        "Initech Labs",
    )
    assert tree.cli("run", "--once").exit_code == 0
    [letter] = tree.received()
    body = letter.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "the Platform Engineer role at Initech Labs: no longer." in " ".join(body.split())


def test_cancel_rule_gives_them_and_the_flag_wins(tmp_path: Path) -> None:
    """`[[cancel]]` role and company are used with their source; a flag's own value beats
    the rule's, and what neither gives is still found."""
    tree = Tree(tmp_path)
    tree.add((CORPUS / SCREEN).read_bytes())
    tree.config(
        '\n[[cancel]]\nsummary = "*Initech*"\nrole = "Backend Engineer"\nscope = "process"\n'
    )
    eid = listed(tree)["id"]
    notes = tree.cli("preview", eid).stderr
    assert "role: Backend Engineer (from the [[cancel]])" in notes
    assert "company: Initech (from the subject)" in notes
    assert tree.cli("flag", eid, "--role", "Staff Engineer").exit_code == 0
    assert listed(tree)["role"] == "Staff Engineer"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--scope", "everything"], "Invalid value for '--scope'"),
        (["--role", "Engineer\nBcc: x@evil.example"], "--role: must be one line of text"),
        (["--company", "x" * 101], "--company: is 101 characters long"),
    ],
)
def test_flag_options_are_checked(tmp_path: Path, args: list[str], error: str) -> None:
    """A scope other than process/interview, or a role or company that is not one short
    line, is refused with exit 2 and nothing stored."""
    tree = Tree(tmp_path)
    tree.add((CORPUS / SCREEN).read_bytes())
    tree.config()
    eid = listed(tree)["id"]
    result = tree.cli("flag", eid, *args)
    assert result.exit_code == 2
    assert error in result.output
    assert listed(tree)["flagged_by"] is None


def test_config_keys_are_checked_with_file_and_key(tmp_path: Path) -> None:
    """`[withdrawal].scope` and `[[cancel]]` scope/role/company errors name file and key."""
    tree = Tree(tmp_path)
    tree.config()
    path = tmp_path / "config.toml"
    text = path.read_text().replace('grace = "0"', 'grace = "0"\nscope = "all"')
    text += '\n[[cancel]]\nuid = "x"\nscope = "both"\nrole = "a\\nb"\ncompany = 3\n'
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        cfg.load(path)
    assert sorted(caught.value.problems) == [
        f"{path}: [[cancel]] #1.company: input should be a valid string (got 3)",
        f"{path}: [[cancel]] #1.role: must be one line of text, without control characters",
        f"{path}: [[cancel]] #1.scope: must be one of '', 'process' or 'interview'",
        f"{path}: [withdrawal].scope: must be one of 'process' or 'interview'",
    ]


def test_migration_6_keeps_old_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state db from before migration 6 keeps its CLI flags, which now say no scope,
    role or company ('')."""
    db = tmp_path / "state.db"
    monkeypatch.setattr(store_schema, "MIGRATIONS", store_schema.MIGRATIONS[:5])
    with Store.open(db) as store, store.transaction() as conn:
        conn.execute(
            "INSERT INTO events (id, uid, starts_at, calendar, first_seen, updated)"
            " VALUES ('e1', 'u1', '2027-01-01T00:00:00+00:00', '', 'x', 'x')"
        )
        conn.execute(
            "INSERT INTO flags (event_id, source, reason, to_addr, first_seen)"
            " VALUES ('e1', 'cli', 'moved', '', '2026-12-01T00:00:00+00:00')"
        )
    monkeypatch.undo()
    with Store.open(db) as store:
        assert store.schema_version() == len(store_schema.MIGRATIONS)
        [flag] = flag_db.all_flags(store.connection)
    assert (flag.reason, flag.scope, flag.role, flag.company) == ("moved", "", "", "")
