"""The titles corpus end to end (SPEC 18, 19): scanned from a Maildir and from the real
Dovecot test bed, `invites --json` names each invitation's role and company as
expected.toml says and gives the invitations of one hiring process one `process` id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from decliner.cli.main import cli
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.maildir_tree import Tree
from tests.testbed.titles import CORPUS, ME, cases

pytestmark = pytest.mark.servers


def named_as_expected(run: Callable[..., Result]) -> None:
    """Every file is listed once, with its role and company, and `process` ids split the
    invitations exactly as the corpus's process labels do."""
    result = run("invites", "--all", "--json")
    assert result.exit_code == 0, result.output
    listed = {row["uid"]: row for row in json.loads(result.stdout)}
    process_of: dict[str, str] = {}
    for case in cases():
        row: dict[str, Any] | None = listed.get(case["uid"])
        assert row is not None, f"{case['file']}: not listed"
        assert (row["role"], row["company"]) == (case["role"], case["company"]), case["file"]
        process_of[case["file"]] = row["process"]
    labels = {case["file"]: case["process"] for case in cases()}
    for a, label_a in labels.items():
        for b, label_b in labels.items():
            assert (process_of[a] == process_of[b]) == (label_a == label_b), (a, b)
    assert set(process_of.values()) <= {row["id"] for row in listed.values()}


def test_titles_corpus_over_maildir(tmp_path: Path) -> None:
    """Over Maildir: every invitation named and grouped as expected."""
    tree = Tree(tmp_path)
    for path in sorted(CORPUS.glob("*.eml")):
        tree.add(path.read_bytes())
    tree.config()
    named_as_expected(tree.cli)


def test_titles_corpus_over_imap(tmp_path: Path, dovecot: Dovecot) -> None:
    """Over IMAP (only the calendar and text parts fetched): the same names and processes."""
    account = dovecot.add_account(Account(ME[0], f"pw-{tmp_path.name}-CANARY"))
    for path in sorted(CORPUS.glob("*.eml")):
        dovecot.append(account, "INBOX", path.read_bytes())
    text = config_text(dovecot, account, tmp_path, me=ME[0], aliases=ME[1:])
    load_config(text, tmp_path)

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--config", str(tmp_path / "config.toml"), *args])

    named_as_expected(run)
