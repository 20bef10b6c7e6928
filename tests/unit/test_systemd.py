"""sd_notify over a real datagram socket, and the watchdog interval from the environment."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from decliner import logs
from decliner.daemon.systemd import Notifier, watchdog_interval


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A datagram socket bound to a file, and the environment naming it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.settimeout(5)
        yield sock, {"NOTIFY_SOCKET": str(tmp_path / "notify")}


@pytest.fixture
def abstract_socket() -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A datagram socket bound to an abstract name, and the environment naming it with '@'."""
    name = f"decliner-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        yield sock, {"NOTIFY_SOCKET": "@" + name}


def received(sock: socket.socket) -> list[str]:
    return sock.recv(65536).decode().split("\n")


def test_messages_reach_a_path_socket(path_socket: tuple[socket.socket, dict[str, str]]) -> None:
    """Each method sends its fields as one datagram to a socket named by path."""
    sock, env = path_socket
    notifier = Notifier(env)
    assert notifier.enabled
    notifier.ready("synced INBOX")
    assert received(sock) == ["READY=1", "STATUS=synced INBOX"]
    notifier.ready()
    assert received(sock) == ["READY=1"]
    notifier.status("idle on INBOX")
    assert received(sock) == ["STATUS=idle on INBOX"]
    notifier.watchdog()
    assert received(sock) == ["WATCHDOG=1"]
    notifier.stopping()
    assert received(sock) == ["STOPPING=1"]


def test_messages_reach_an_abstract_socket(
    abstract_socket: tuple[socket.socket, dict[str, str]],
) -> None:
    """A NOTIFY_SOCKET starting with '@' is the abstract namespace."""
    sock, env = abstract_socket
    Notifier(env).watchdog()
    assert received(sock) == ["WATCHDOG=1"]


def test_reloading_carries_the_monotonic_clock(
    path_socket: tuple[socket.socket, dict[str, str]],
) -> None:
    """RELOADING=1 comes with MONOTONIC_USEC, the CLOCK_MONOTONIC time of the notice."""
    sock, env = path_socket
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    Notifier(env).reloading()
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    reload, stamp = received(sock)
    assert reload == "RELOADING=1"
    key, _, usec = stamp.partition("=")
    assert key == "MONOTONIC_USEC"
    assert before <= int(usec) <= after


def test_status_stays_one_field(path_socket: tuple[socket.socket, dict[str, str]]) -> None:
    """A newline in status text cannot add a field such as READY=1."""
    sock, env = path_socket
    Notifier(env).status("folder Foo\nREADY=1\r\nSTOPPING=1")
    assert received(sock) == ["STATUS=folder Foo READY=1 STOPPING=1"]


def test_status_never_carries_a_secret(path_socket: tuple[socket.socket, dict[str, str]]) -> None:
    """A registered secret is masked in STATUS=, which every local user can read."""
    sock, env = path_socket
    secret = f"status-secret-{uuid.uuid4().hex}"
    logs.redact(secret)
    Notifier(env).status(f"login failed with {secret}")
    assert received(sock) == ["STATUS=login failed with ***"]


def test_no_socket_means_no_op() -> None:
    """Without NOTIFY_SOCKET (or with one that is not a socket address) nothing is sent."""
    for env in ({}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "vsock:2:1234"}):
        notifier = Notifier(env)
        assert not notifier.enabled
        notifier.ready("x")
        notifier.status("x")
        notifier.watchdog()
        notifier.stopping()
        notifier.reloading()


def test_send_errors_are_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A socket that is gone costs a debug line, never an exception in the mail loop."""
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    with caplog.at_level(logging.DEBUG, logger="decliner.daemon.systemd"):
        notifier.ready("x")
        notifier.watchdog()
    messages = [r.getMessage() for r in caplog.records if r.name == "decliner.daemon.systemd"]
    assert len(messages) == 2
    assert "READY" in messages[0]
    assert "WATCHDOG" in messages[1]
    assert all(r.levelno == logging.DEBUG for r in caplog.records)


def test_an_undeliverable_character_is_not_an_error(
    path_socket: tuple[socket.socket, dict[str, str]],
) -> None:
    """Text that is not valid UTF-8 (a lone surrogate from a file name) is replaced, not raised."""
    sock, env = path_socket
    Notifier(env).status("folder \udcff")
    assert received(sock) == ["STATUS=folder ?"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "120000000"}, 120.0),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "4242"}, 120.0),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "4243"}, None),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": ""}, 0.5),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "me"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    """WatchdogSec= in seconds, only when it is set and meant for this process."""
    assert watchdog_interval(env, pid=4242) == expected


def test_watchdog_interval_defaults_to_our_pid() -> None:
    """Without an explicit pid, WATCHDOG_PID is compared with os.getpid()."""
    env = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert watchdog_interval(env) == 2.0
