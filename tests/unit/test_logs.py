"""Log lines for a terminal and for journald, levels per verbosity, secrets redacted."""

from __future__ import annotations

import base64
import io
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decliner import logs

log = logging.getLogger("decliner.test")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo what setup() does to the process-wide logging configuration."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("decliner", *logs.LIBRARIES)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    logging.captureWarnings(False)


def secret() -> str:
    return f"pw-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[tuple[TextIO, dict[str, str]]]:
    """A real file as stderr, and a JOURNAL_STREAM naming its device and inode."""
    with (tmp_path / "journal").open("w+", encoding="utf-8") as stream:
        st = os.fstat(stream.fileno())
        yield stream, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


def read(stream: TextIO) -> str:
    stream.flush()
    stream.seek(0)
    return stream.read()


def test_terminal_lines_are_time_level_message() -> None:
    """Outside journald: 'HH:MM:SS LEVEL message', library records named."""
    out = io.StringIO()
    logs.setup(verbosity=1, stream=out, env={})
    log.info("scanned %d folders", 3)
    logging.getLogger("imapclient").warning("server said BYE")
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO scanned 3 folders", lines[0])
    assert re.fullmatch(r"\d\d:\d\d:\d\d WARNING imapclient: server said BYE", lines[1])


def test_journal_lines_carry_syslog_priority(journal: tuple[TextIO, dict[str, str]]) -> None:
    """Under journald each level maps to its <N> prefix, and there is no timestamp."""
    stream, env = journal
    logs.setup(debug=True, stream=stream, env=env)
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    log.critical("c")
    assert read(stream).splitlines() == ["<7>d", "<6>i", "<4>w", "<3>e", "<2>c"]


def test_journal_traceback_lines_each_get_the_prefix(
    journal: tuple[TextIO, dict[str, str]],
) -> None:
    """A multi-line record (a traceback) keeps its priority on every line."""
    stream, env = journal
    logs.setup(stream=stream, env=env)
    try:
        raise ValueError("bad\nthing")  # noqa: TRY301 -- a real traceback to log
    except ValueError:
        log.exception("pass failed")
    lines = read(stream).splitlines()
    assert lines[0] == "<3>pass failed"
    assert lines[1] == "<3>Traceback (most recent call last):"
    assert lines[-2:] == ["<3>ValueError: bad", "<3>thing"]
    assert all(line.startswith("<3>") for line in lines)


def test_journal_stream_of_another_file_is_ignored(
    journal: tuple[TextIO, dict[str, str]], tmp_path: Path
) -> None:
    """An inherited JOURNAL_STREAM that is not our stream's device:inode means a terminal."""
    _, env = journal
    with (tmp_path / "other").open("w+", encoding="utf-8") as other:
        logs.setup(stream=other, env=env)
        log.warning("w")
        assert re.fullmatch(r"\d\d:\d\d:\d\d WARNING w\n", read(other))
    assert not logs.journal_stream(io.StringIO(), env)
    assert not logs.journal_stream(other, {"JOURNAL_STREAM": "garbage"})


@pytest.mark.parametrize(
    ("verbosity", "quiet", "debug", "shown"),
    [
        (0, False, False, {"warning"}),
        (1, False, False, {"info", "warning"}),
        (2, False, False, {"debug", "info", "warning"}),
        (0, False, True, {"debug", "info", "warning"}),
        (2, True, True, {"warning"}),
    ],
)
def test_levels(verbosity: int, quiet: bool, debug: bool, shown: set[str]) -> None:
    """WARNING by default and with --quiet, INFO with -v, DEBUG with -vv or --debug."""
    out = io.StringIO()
    logs.setup(verbosity=verbosity, quiet=quiet, debug=debug, stream=out, env={})
    log.debug("debug")
    log.info("info")
    log.warning("warning")
    assert {line.split()[-1] for line in out.getvalue().splitlines()} == shown


@pytest.mark.parametrize("name", logs.LIBRARIES)
def test_libraries_stay_quiet_below_vvv(name: str) -> None:
    """Library debug output (imapclient's is the protocol) shows only from -vvv."""
    out = io.StringIO()
    logs.setup(verbosity=2, debug=True, stream=out, env={})
    logging.getLogger(f"{name}.sub").debug("LOGIN traffic")
    logging.getLogger(name).info("chatter")
    assert out.getvalue() == ""
    logs.setup(verbosity=3, stream=out, env={})
    logging.getLogger(f"{name}.sub").debug("LOGIN traffic")
    assert f"{name}.sub: LOGIN traffic" in out.getvalue()


def test_setup_twice_keeps_one_handler() -> None:
    """Calling setup again (the CLI's tests do) replaces its handler instead of doubling lines."""
    first, second = io.StringIO(), io.StringIO()
    logs.setup(stream=first, env={})
    logs.setup(stream=second, env={})
    log.warning("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_secrets_are_redacted_in_message_arguments_and_traceback(
    journal: tuple[TextIO, dict[str, str]],
) -> None:
    """A registered secret never reaches the stream, wherever in the record it hides."""
    stream, env = journal
    pw = secret()
    logs.redact(pw)
    logs.setup(debug=True, stream=stream, env=env)
    log.info("password is " + pw)  # noqa: G003 -- a secret inside the message text itself
    log.info("login as %s with %r", "jane", pw)
    try:
        raise RuntimeError(f"server rejected {pw}")  # noqa: TRY301 -- a real traceback to log
    except RuntimeError:
        log.exception("login failed")
    text = read(stream)
    assert pw not in text
    assert "<6>password is ***" in text
    assert "<6>login as jane with '***'" in text
    assert "<3>RuntimeError: server rejected ***" in text


@pytest.mark.parametrize(
    "form",
    [
        lambda s: s.replace("\\", "\\\\").replace('"', '\\"'),  # IMAP LOGIN "quoted"
        lambda s: repr(s.encode()),  # a bytes repr in a protocol trace
        lambda s: base64.b64encode(s.encode()).decode(),  # AUTH LOGIN
        lambda s: base64.b64encode(f"\0jane@example.com\0{s}".encode()).decode(),  # AUTH PLAIN
    ],
)
def test_encoded_secrets_are_redacted(form: object) -> None:
    """Quoted, repr and base64 forms, as a -vvv protocol trace would show them, are masked."""
    assert callable(form)
    pw = 'p"w\\' + secret() + "é"
    logs.redact(pw)
    out = io.StringIO()
    logs.setup(verbosity=3, stream=out, env={})
    logging.getLogger("imapclient.imaplib").debug("> %s", form(pw))
    assert form(pw) not in out.getvalue()
    assert "***" in out.getvalue()


@given(st.binary(max_size=12), st.binary(max_size=12))
def test_base64_secret_inside_any_blob_is_mostly_masked(before: bytes, after: bytes) -> None:
    """However a secret is aligned inside a base64 blob (XOAUTH2, AUTH PLAIN), it is masked."""
    pw = "Tr0ub4dor&3-horse-battery"
    logs.redact(pw)
    blob = base64.b64encode(before + pw.encode() + after).decode()
    masked = logs.scrub(blob)
    assert "***" in masked
    # At most the characters that mix the secret's bits with its neighbours' remain.
    assert len(blob) - len(masked) >= len(base64.b64encode(pw.encode())) - 8


def test_blank_secrets_are_not_registered() -> None:
    """An empty password must not turn every log line into asterisks."""
    logs.redact("")
    logs.redact("   ")
    assert logs.scrub("a b  c") == "a b  c"


def test_bad_format_arguments_do_not_raise() -> None:
    """A record whose arguments do not fit its format is still written, not raised."""
    out = io.StringIO()
    logs.setup(stream=out, env={})
    # Straight to our handler: pytest's own capture handler would raise on this record first.
    (handler,) = [h for h in logging.getLogger().handlers if h.get_name() == "decliner"]
    record = log.makeRecord(log.name, logging.WARNING, __file__, 1, "two %s %s", ("one",), None)
    handler.handle(record)
    assert "two %s %s ('one',)" in out.getvalue()


def test_python_warnings_go_through_logging(journal: tuple[TextIO, dict[str, str]]) -> None:
    """warnings.warn lands in the journal with a level, not as a bare stderr line."""
    import warnings

    stream, env = journal
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        logs.setup(stream=stream, env=env)
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
    assert read(stream).startswith("<4>py.warnings: ")
