"""What the page's undo says, as `decliner unflag` does, over a Maildir account: a flag
the page cannot take back (the flag folder) is named with how to remove it, and an undo
after the withdrawal went out says it is too late."""

from __future__ import annotations

import html
from pathlib import Path

from decliner.core.plan.events import event_id
from tests.testbed.maildir_tree import Tree, invite, run_pass
from tests.testbed.webpage import Served, served


def undo(page: Served, target: str) -> str:
    """Press the page's undo; the text of the page it leads to."""
    headers = {"Cookie": page.cookie, "Origin": f"http://{page.host}"}
    answer = page.request(
        "POST", f"/invite/{target}/unflag", headers=headers, form={"csrf_token": page.csrf}
    )
    assert answer.status == 303
    return html.unescape(page.get(answer.headers["location"]).body)


def test_undo_names_a_flag_kept_elsewhere_and_a_withdrawal_already_sent(tmp_path: Path) -> None:
    """An invitation in the flag folder stays flagged after the page's undo, and the page
    says so and how to remove it; once a withdrawal is sent, the undo says too late."""
    for name in ("kept", "sent"):
        (tmp_path / name).mkdir()
    tree = Tree(tmp_path / "kept")
    tree.add(invite("kept@g")[0], "Decline")
    config = tree.config(grace="5m")
    run_pass(config)
    with served(config) as page:
        shown = undo(page, event_id("kept@g"))
        assert "still flagged by folder (move the invitation out of the flag folder)" in shown
        assert "nothing will be sent" not in shown
    tree = Tree(tmp_path / "sent")
    tree.add(invite("sent@g")[0], "Decline")
    config = tree.config(grace="0")
    run_pass(config)
    assert len(tree.received()) == 1
    with served(config) as page:
        shown = undo(page, event_id("sent@g"))
        assert "Too late: the withdrawal is already sent." in shown
    assert len(tree.received()) == 1
