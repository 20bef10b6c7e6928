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
import textwrap
from importlib import resources
from pathlib import Path

from decliner.cli.providers import Provider
from decliner.cli.registration import TABLES
from decliner.config import check_address
from decliner.errors import UserError

EXAMPLE = ("data", "config.example.toml")
_SECTION = re.compile(r"^\s*(\[\[?[\w.-]+\]\]?)")
_TODO = re.compile(r"#\s*TODO:\s*(.*)$")
_EMAIL_LINE = re.compile(r'^(email = "[^"]*")(\s*)# TODO: (.*)$', re.MULTILINE)


def example_text() -> str:
    """The packaged example config."""
    return resources.files("decliner").joinpath(*EXAMPLE).read_text(encoding="utf-8")


def starter_text(email: str = "", provider: Provider | None = None) -> str:
    """The example, with `email` (if given) filled in and no longer marked TODO, and the
    servers of `provider` (if known) filled in."""
    text = example_text()
    if provider is not None:
        text = _with_servers(text, provider, email or "you@example.com")
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


def _setting(key: str, value: str | int, comment: str) -> str:
    """A `key = value   # comment` line aligned as the example's are."""
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
    return f"{f'{key} = {shown}'.ljust(35)} # {comment}"


def _with_servers(text: str, provider: Provider, email: str) -> str:
    """`text` with [imap] and [smtp] host, port and security set for `provider`, its login
    advice above the IMAP secret source, and where the values come from."""
    servers = {"imap": provider.imap, "smtp": provider.smtp}
    out: list[str] = []
    section = ""
    filled = 0
    for line in text.splitlines():
        if header := _SECTION.match(line):
            section = header[1].strip("[]")
            if section == "imap":
                out.append(f"# {provider.name}: servers from {provider.source}")
                out.extend(f"# {part}" for part in textwrap.wrap(provider.note, 76))
        server = servers.get(section)
        key = line.split("=", 1)[0].strip() if "=" in line and not line.startswith("#") else ""
        if server is not None and key in ("host", "port", "security"):
            comment = line.split("#", 1)[1].strip() if "#" in line else ""
            if key == "host":
                comment = f"{provider.name}'s {section.upper()} server"
            out.append(_setting(key, getattr(server, key), comment))
            filled += 1
            continue
        if line.strip() == "# [calendar]":
            section = "calendar (commented)"
        if provider.caldav and line.startswith("# url = ") and section == "calendar (commented)":
            url = provider.caldav.format(email=email)
            out.append(_setting("# url", url, f"{provider.name}'s CalDAV server"))
            continue
        if section == "imap" and key == "password_command":
            out.extend(f"# {advice.format(email=email)}" for advice in provider.secret_advice)
            if provider.oauth2:
                out.append("# " + line.split("#", 1)[0].rstrip())
                out.append(_setting("oauth2", provider.oauth2, "sign in: `decliner login`"))
                continue
        if provider.oauth2 and line.strip() == "[state]":
            out.extend(TABLES[provider.oauth2].splitlines())
            out.append("")
        out.append(line)
    if filled != 6:
        raise RuntimeError(
            "the packaged example config lacks an [imap]/[smtp] host, port or security"
        )
    return "\n".join(out) + "\n"


def write_starter(path: Path, email: str = "", provider: Provider | None = None) -> Path:
    """Write the starter config to `path` (mode 0600, parents created); never overwrite."""
    text = starter_text(email, provider)
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
