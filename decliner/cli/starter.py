"""`decliner init`: a commented starter config, written from the example shipped in the package.

The example (``decliner/data/config.example.toml``, the same bytes as the
repository's top-level ``config.example.toml``, which a test keeps so) is a
valid config whose placeholder lines carry ``# TODO:`` comments; `check` lists
the lines still marked, so the file is usable as soon as it is written and
says what is left to do.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

from decliner.config import check_address
from decliner.errors import UserError

EXAMPLE = ("data", "config.example.toml")
_SECTION = re.compile(r"^\s*(\[\[?[\w.-]+\]\]?)")
_TODO = re.compile(r"#\s*TODO:\s*(.*)$")
_EMAIL_LINE = re.compile(r'^(email = "[^"]*")(\s*)# TODO: (.*)$', re.MULTILINE)


def example_text() -> str:
    """The packaged example config."""
    return resources.files("decliner").joinpath(*EXAMPLE).read_text(encoding="utf-8")


def starter_text(email: str = "") -> str:
    """The example, with `email` (if given) filled in and no longer marked TODO."""
    text = example_text()
    if not email:
        return text
    try:
        check_address(email)
    except ValueError as exc:
        raise UserError(f"--email: {exc}") from None

    def fill(match: re.Match[str]) -> str:
        line = f"email = {json.dumps(email, ensure_ascii=False)}"
        width = len(match[1]) + len(match[2])
        return f"{line.ljust(width - 1)} # {match[3]}"

    text, count = _EMAIL_LINE.subn(fill, text, count=1)
    if count != 1:
        raise RuntimeError("the packaged example config has no `email = ... # TODO:` line")
    return text


def write_starter(path: Path, email: str = "") -> Path:
    """Write the starter config to `path` (mode 0600, parents created); never overwrite."""
    text = starter_text(email)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UserError(
            f"{path} already exists; not overwriting it (edit it, or give another PATH)"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)  # exactly 0600, whatever the umask
        handle.write(text)
    return path


def todo_lines(text: str) -> list[tuple[int, str]]:
    """(line number, what to do) for each line still marked ``# TODO:``."""
    found = []
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if header := _SECTION.match(line):
            section = header[1]
        match = _TODO.search(line)
        if match and not line.lstrip().startswith("#"):
            key = line.split("=", 1)[0].strip()
            found.append((number, f"{section}.{key}: {match[1]}"))
    return found
