"""`decliner web` as a process: a free port printed, `--open` handing the browser a
one-time link that is never printed, a second `--open` beside a running page, and the
page started by a systemd socket on the first visit that stops when idle and starts
again on the next (`systemd-socket-activate`, the tool systemd ships for this)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from decliner import config as cfg
from tests.testbed.maildir_tree import Tree, invite, run_pass
from tests.testbed.net import free_port
from tests.testbed.wait import wait_until
from tests.testbed.webpage import Served

ROOT = Path(__file__).resolve().parents[2]
DECLINER = (sys.executable, "-m", "decliner")


@pytest.fixture
def account(tmp_path: Path) -> cfg.Config:
    tree = Tree(tmp_path)
    tree.add(invite("web-serve@google.com")[0])
    config = tree.config(grace="5m")
    run_pass(config)
    return config


def browser_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose $BROWSER writes each URL it is asked to open to a file."""
    opened = tmp_path / "opened"
    script = tmp_path / "browser"
    script.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n', encoding="utf-8")
    script.chmod(0o755)
    env = {**os.environ, "BROWSER": str(script), "PYTHONPATH": str(ROOT)}
    return env, opened


@contextmanager
def web_process(
    config: cfg.Config, env: dict[str, str], output: list[str], *args: str
) -> Iterator[subprocess.Popen[str]]:
    """`decliner web ARGS` running in the background, stopped by Ctrl-C at the end of the
    block; what it wrote then goes to `output`."""
    command = [*DECLINER, "--config", str(config.source), "web", *args]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        output.extend(process.communicate(timeout=30))


def opened_urls(opened: Path) -> list[str]:
    return opened.read_text(encoding="utf-8").split() if opened.exists() else []


def test_web_open_prints_the_page_and_hands_the_link_to_the_browser_only(
    account: cfg.Config, tmp_path: Path
) -> None:
    """`web --open` prints http://127.0.0.1:PORT/ (a free port) and gives the browser a
    one-time link that signs in once; `web --port PORT --open` beside it hands the browser
    another link to the same page and exits (without --open, one line: the port is taken);
    no output shows a ticket or the secret."""
    env, opened = browser_env(tmp_path)
    output: list[str] = []
    with web_process(account, env, output, "--open") as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/ ", line)
        assert found, line
        port = int(found[1])
        wait_until(lambda: len(opened_urls(opened)) == 1, "the browser to be opened")
        page = Served(port, account.state_path().parent)
        link = opened_urls(opened)[0]
        assert link.startswith(f"http://127.0.0.1:{port}/login?ticket=")
        beside = subprocess.run(
            [*DECLINER, "--config", str(account.source), "web", "--port", str(port), "--open"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert beside.returncode == 0, beside.stderr
        assert f"http://127.0.0.1:{port}/" in beside.stdout
        second = opened_urls(opened)[1]
        taken = subprocess.run(
            [*DECLINER, "--config", str(account.source), "web", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert taken.returncode == 1
        assert taken.stderr == (
            f"decliner: cannot listen on 127.0.0.1:{port}: Address already in use\n"
        )
        for url in (link, second):
            answer = page.request("GET", url.removeprefix(f"http://127.0.0.1:{port}"))
            assert answer.status == 303
            assert page.secret in answer.headers["set-cookie"]
    shown = line + "".join(output) + beside.stdout + beside.stderr
    for secret in (link, second, page.secret):
        assert secret.split("=")[-1] not in shown


ACTIVATE = shutil.which("systemd-socket-activate")


@pytest.mark.skipif(ACTIVATE is None, reason="systemd-socket-activate is not installed")
def test_a_socket_from_systemd_is_served_until_idle(account: cfg.Config, tmp_path: Path) -> None:
    """Handed a listening socket as systemd does (LISTEN_FDS, LISTEN_PID), `web` serves on
    it, not on a port of its own, and exits cleanly once no request came for --idle; the
    socket unit then starts it again on the next visit."""
    assert ACTIVATE is not None
    port = free_port()
    env, _opened = browser_env(tmp_path)
    command = [ACTIVATE, "-l", f"127.0.0.1:{port}", "-E", "PYTHONPATH", sys.executable]
    command += ["-m", "decliner", "--config", str(account.source), "web", "--idle", "1s"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    page = Served(port, account.state_path().parent)
    answers: list[int] = []
    try:
        # Like systemd, the tool starts the command on the first connection to the socket.
        wait_until(lambda: _answered(page, answers), "the page to start on the first visit")
        assert answers == [403]
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/ " in _out, _out
    assert process.returncode == 0, err


def _answered(page: Served, answers: list[int]) -> bool:
    try:
        answer = page.request("GET", "/attention")  # no cookie yet: refused, by the page
        answers.append(answer.status if answer.headers.get("x-decliner") else 0)
    except ConnectionRefusedError:  # not listening yet
        return False
    return True
