"""The review page beside a running daemon on the same state db (SPEC 21: it acts through
the same code as the CLI, so both may act at once without failing or acting twice)."""

from __future__ import annotations

from pathlib import Path

from decliner import config as cfg
from decliner.core.plan.events import event_id
from tests.testbed.daemon_harness import running
from tests.testbed.maildir_tree import Tree, invite
from tests.testbed.wait import wait_until
from tests.testbed.webpage import served


def test_page_flags_and_unflags_beside_a_running_daemon(tmp_path: Path) -> None:
    """While the daemon makes six passes, the page's forms toggle the flags of six
    invitations: every form is answered with its redirect, the daemon logs no error, no
    invitation gets two withdrawals, and each flagged at the end gets exactly one."""
    tree = Tree(tmp_path)
    path = tree.config().source
    path.write_text(
        path.read_text().replace('path = "mail"\n', 'path = "mail"\npoll_interval = "1s"\n')
    )
    config = cfg.load(path)
    message_ids = {}
    for n in range(6):
        raw, message_ids[event_id(f"web{n}@g")] = invite(f"web{n}@g")
        tree.add(raw)
    with running(path, tmp_path) as (decliner, listener), served(config) as page:
        headers = {"Cookie": page.cookie, "Origin": f"http://{page.host}"}
        start, step, flagged = listener.passes(), 0, set[str]()
        while listener.passes() < start + 6 and step < 3000:
            target = list(message_ids)[step % len(message_ids)]
            action = "unflag" if target in flagged else "flag"
            form = {"csrf_token": page.csrf, "reason": "", "scope": "", "role": "", "company": ""}
            answer = page.request("POST", f"/invite/{target}/{action}", headers=headers, form=form)
            assert answer.status == 303, (action, target, answer.body[-300:])
            flagged ^= {target}
            step += 1
        assert listener.passes() - start >= 2, "the daemon made no passes while the page acted"
        expected = {message_ids[e] for e in flagged}
        wait_until(
            lambda: expected <= {m["In-Reply-To"] for m in tree.received()},
            "a withdrawal for every invitation flagged at the end",
        )
        assert decliner.process.poll() is None
        assert decliner.logged("ERROR") == 0
        assert decliner.logged("Traceback") == 0
    replies_to = [m["In-Reply-To"] for m in tree.received() if "Re:" in m["Subject"]]
    assert len(replies_to) == len(set(replies_to)), "an invitation got two withdrawals"
