"""What is wrong with a config document, as `(location, message)` pairs.

Field-level problems come from pydantic's errors, reworded for people; rules
that span keys (one secret source, `plain` only on loopback, `[imap]` xor
`[maildir]`, ...) are checked on the raw document, so they are reported even
when other keys of the same section are broken.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

SECRET_KEYS = (
    "password",
    "password_env",
    "password_file",
    "password_command",
    "oauth2_token_command",
    "oauth2",
)


_SECTION_ORDER = (
    "[account",
    "[imap",
    "[maildir",
    "[smtp",
    "[withdrawal",
    "[followup",
    "[calendar",
    "[oauth2",
    "[state",
)


def file_order(problem: tuple[str, str]) -> tuple[int, str]:
    """A sort key putting problems in the order their sections appear in the file."""
    where = problem[0]
    rank = next(
        (i for i, s in enumerate(_SECTION_ORDER) if where.startswith(s)), len(_SECTION_ORDER)
    )
    return rank, where


def _location(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "(top level)"
    section, *rest = loc
    if section == "cancel" and rest and isinstance(rest[0], int):
        head = f"[[cancel]] #{int(rest.pop(0)) + 1}"
    elif section == "oauth2" and rest:
        head = f"[oauth2.{rest.pop(0)}]"
    else:
        head = f"[{section}]"
    return head + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key" if len(error["loc"]) > 1 else "unknown section"
    if kind == "missing":
        return "required" if len(error["loc"]) > 1 else "required section is missing"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in {"model_type", "dict_type"}:
        return "must be a table"
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}"
    return f"{error['msg'][0].lower()}{error['msg'][1:]} (got {error.get('input')!r})"


def cross_key_problems(raw: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Problems no single key shows: a missing mail source, a secret, a required pair."""
    imap, maildir, smtp = (_table(raw, k) for k in ("imap", "maildir", "smtp"))
    if "imap" not in raw and "maildir" not in raw:
        yield "[imap]", "required: a mail source, [imap] or [maildir]"
    elif "imap" in raw and "maildir" in raw:
        yield "[maildir]", "give either [imap] or [maildir], not both"
    if maildir is not None:
        yield from _maildir_problems(maildir)
    if imap is not None:
        sources = [k for k in SECRET_KEYS if imap.get(k)]
        if not sources:
            yield "[imap].password", f"no secret given; set one of {', '.join(SECRET_KEYS)}"
        yield from _secret_problems("imap", sources)
        yield from _plain_problems("imap", imap)
    smtp = smtp or {}
    yield from _secret_problems("smtp", [k for k in SECRET_KEYS if smtp.get(k)])
    if smtp.get("transport", "smtp") == "smtp":
        if not smtp.get("host"):
            yield "[smtp].host", "required"
        yield from _plain_problems("smtp", smtp)
        if imap is None and maildir is not None and not any(smtp.get(k) for k in SECRET_KEYS):
            yield (
                "[smtp].password",
                "no secret given; with [maildir] there is no IMAP secret to reuse",
            )
    elif smtp.get("transport") == "maildir" and not smtp.get("maildir_path"):
        yield "[smtp].maildir_path", 'required with transport = "maildir"'
    yield from _calendar_problems(_table(raw, "calendar"), has_imap=imap is not None)
    for number, entry in enumerate(raw.get("cancel") or [], start=1):
        if isinstance(entry, dict) and not any(
            entry.get(k) for k in ("uid", "summary", "organizer")
        ):
            yield f"[[cancel]] #{number}", "needs a uid, or a summary or organizer glob"


def _calendar_problems(
    calendar: Mapping[str, Any] | None, *, has_imap: bool
) -> Iterator[tuple[str, str]]:
    if calendar is None:
        return
    yield from _secret_problems("calendar", [k for k in SECRET_KEYS if calendar.get(k)])
    if not has_imap and not any(calendar.get(k) for k in SECRET_KEYS):
        yield (
            "[calendar].password",
            "no secret given; with [maildir] there is no IMAP secret to reuse",
        )


_MAILDIR_KEYWORD = (
    "not used with [maildir]: flag by copying or moving an invite into flag_folder;"
    ' the Maildir F ("flagged") flag means important and never withdraws anyone'
)


def _maildir_problems(maildir: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    if "flag_keyword" in maildir:
        yield "[maildir].flag_keyword", _MAILDIR_KEYWORD
    flag, folders = maildir.get("flag_folder", "Decline"), maildir.get("folders", ["INBOX"])
    if not isinstance(flag, str) or not isinstance(folders, list):
        return
    if flag and (flag.upper() == "INBOX" or flag in folders):
        yield (
            "[maildir].flag_folder",
            (
                f'"{flag}" is where invitations arrive: every one of them would be withdrawn;'
                ' use a folder of its own (it is read anyway), or "" for none'
            ),
        )


def _table(raw: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = raw.get(key)
    return value if isinstance(value, dict) else None


def _secret_problems(section: str, sources: list[str]) -> Iterator[tuple[str, str]]:
    if len(sources) > 1:
        yield (
            f"[{section}].{sources[1]}",
            f"give only one secret source, not {' and '.join(sources)}",
        )


def _plain_problems(section: str, table: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    host = table.get("host")
    if (
        table.get("security") == "plain"
        and isinstance(host, str)
        and host
        and not is_loopback(host)
    ):
        yield (
            f"[{section}].security",
            f'"plain" sends the password unencrypted; allowed only for a loopback host, not {host}',
        )


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_http_url(value: str, sends: str) -> str:
    """`value` if it is an https URL, or http on a loopback host (a test, a local server);
    `sends` says what plain http would expose ("sends the password")."""
    parts = urlsplit(value)
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if scheme not in {"https", "http"} or not host:
        raise ValueError(f'"{value}" is not an http(s) URL')
    if scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"http:// {sends} unencrypted; allowed only for a loopback host, not {host}"
        )
    return value


def field_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Pydantic's errors as (location, message), in words for people."""
    return [
        (_location(error["loc"]), _message(error))
        for error in exc.errors()
        # A flag_keyword under [maildir] is explained by the cross-key rules.
        if tuple(error["loc"]) != ("maildir", "flag_keyword")
    ]
