"""`decliner check`: validate the config and templates, then try each server for real.

Each step yields a `Check` (a pass/fail line plus warnings); the CLI only prints them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from decliner.cli import starter
from decliner.config import Config
from decliner.core.letters import templating
from decliner.core.letters.languages import LANGUAGES
from decliner.core.plan.actions import LetterKind
from decliner.errors import DeclinerError
from decliner.mail import imap, smtp
from decliner.service import letters, state_db, wiring


def print_check(result: Check) -> None:
    """One pass/fail line, and its warnings below it."""
    import click

    mark = (
        click.style("ok  ", fg="green") if result.ok else click.style("FAIL", fg="red", bold=True)
    )
    click.echo(f"{mark} {result.name:<9} {result.detail}")
    for warning in result.warnings:
        click.echo(f"     {click.style('warning:', fg='yellow')} {warning}")


@dataclass(frozen=True)
class Check:
    """The outcome of one step of `check`: a name, pass/fail, and what was seen."""

    name: str
    ok: bool
    detail: str
    warnings: tuple[str, ...] = ()


def check_config(config: Config) -> Check:
    """The config itself: it loaded, so it is valid; say which source and zone it uses,
    and which lines of a starter config (`decliner init`) are still marked TODO."""
    source = "IMAP" if config.imap else "Maildir"
    zone = config.account.timezone or f"{config.account.zone} (system)"
    try:
        text = config.source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    todo = tuple(f"line {n} still marked TODO: {what}" for n, what in starter.todo_lines(text))
    return Check(
        "config",
        True,
        f"{config.source} ({source} source, time zone {zone})",
        (*todo, *_readable_by_others(config)),
    )


def _readable_by_others(config: Config) -> tuple[str, ...]:
    """A warning when other users may read the config (it may hold a password or name
    the command that prints one)."""
    try:
        mode = config.source.stat().st_mode & 0o777
    except OSError:
        return ()
    if not mode & 0o077:
        return ()
    return (
        (
            f"{config.source} is readable by other users (mode {mode:04o}); it may hold a"
            f" secret: chmod 600 {config.source}"
        ),
    )


def check_templates(config: Config) -> Check:
    """Every template, built-in (in each of the seven languages) and configured, compiles
    and renders against a sample event."""
    zone = config.account.zone
    checked: list[str] = []
    problems: list[str] = []
    kinds: tuple[tuple[LetterKind, str], ...] = (
        ("withdrawal", config.withdrawal.template),
        ("followup", config.followup.template),
    )
    for kind, value in kinds:
        for language in LANGUAGES:
            try:
                custom = letters.template(config, value)
                text, name = custom or templating.builtin_template(kind, language)
            except templating.TemplateProblem as exc:
                problems.append(f"[{kind}].template: {exc}")
                break
            problems += [
                f"[{kind}].template: {p}"
                for p in templating.check_template(text, name, kind, zone=zone, language=language)
            ]
        checked.append(value or f"built-in {kind}")
    if problems:
        return Check("templates", False, "; ".join(dict.fromkeys(problems)))
    return Check("templates", True, f"{', '.join(checked)} (in {', '.join(LANGUAGES)})")


def check_state(config: Config) -> Check:
    """The state db: where it is, when the mail was last read, whether a daemon runs."""
    try:
        info = state_db.state_info(config)
    except DeclinerError as exc:
        return Check("state", False, str(exc))
    path, synced, pid = info.path, info.last_sync, info.daemon_pid
    if not info.exists:
        return Check("state", True, f"{path} (not created yet: the first run creates it)")
    zone = config.account.zone
    when = f"last sync {synced.astimezone(zone):%Y-%m-%d %H:%M:%S}" if synced else "never synced"
    daemon = f"daemon running (pid {pid})" if pid else "no daemon running"
    return Check("state", True, f"{path}: {when}; {daemon}", info.skipped)


def check_signin(config: Config) -> list[Check]:
    """Each OAuth2 sign-in the config uses (SPEC 17): whether `decliner login` has run; the
    tokens themselves are tried by the IMAP, SMTP and CalDAV steps."""
    from datetime import UTC, datetime

    from decliner.auth import providers, token_file

    found = []
    for name in providers.names(config):
        store = token_file(config, name)
        try:
            tokens = store.load()
        except DeclinerError as exc:
            found.append(Check("sign-in", False, str(exc)))
            continue
        if tokens is None:
            found.append(Check("sign-in", False, f"{name}: not signed in; sign in: decliner login"))
            continue
        since = datetime.fromtimestamp(tokens.signed_in_at, UTC).astimezone(config.account.zone)
        found.append(
            Check("sign-in", True, f"{name}: signed in {since:%Y-%m-%d %H:%M} ({store.path})")
        )
    return found


def check_imap(config: Config) -> Check:
    """Log in to IMAP and report the capabilities and folders decliner will use."""
    cfg = config.need_imap()
    try:
        with imap.session(config) as client:
            server = imap.describe_server(client)
    except DeclinerError as exc:
        return Check("imap", False, str(exc))
    caps = ", ".join(f"{c} {'yes' if server.has(c) else 'no'}" for c in imap.USED_CAPABILITIES)
    mode = {"tls": "TLS", "starttls": "STARTTLS", "plain": "no TLS (loopback)"}[cfg.security]
    detail = f"{cfg.host}:{cfg.effective_port} over {mode}; {caps}"
    missing = [f for f in cfg.folders if f not in server.folders]
    if missing:
        return Check("imap", False, f"{detail}; folder not found: {', '.join(missing)}")
    warnings = []
    if cfg.flag_folder and cfg.flag_folder not in server.folders:
        warnings.append(
            f"flag folder {cfg.flag_folder!r} does not exist; create it to flag by folder"
        )
    if cfg.sent_folder and cfg.sent_folder != "none" and cfg.sent_folder not in server.folders:
        return Check("imap", False, f"{detail}; sent folder {cfg.sent_folder!r} not found")
    if not cfg.sent_folder and server.sent_folder is None:
        warnings.append("no \\Sent folder advertised; set [imap].sent_folder or 'none'")
    if cfg.idle and not server.has("IDLE"):
        warnings.append("server lacks IDLE; polling every [imap].poll_interval instead")
    return Check("imap", True, detail, tuple(warnings))


def check_maildir(config: Config) -> Check:
    """The tree and its folders exist and are readable; the sent folder is there and writable."""
    from decliner.mail.maildir import check_tree, folder_path

    cfg = config.need_maildir()
    root = config.resolve_path(cfg.path)
    try:
        check_tree(root, config.source)
    except DeclinerError as exc:
        return Check("maildir", False, str(exc))

    def problem(name: str, access: int) -> str | None:
        path = folder_path(root, name)
        if not all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            verbatim = root / name.replace("/", os.sep)
            if name.upper() != "INBOX" and (verbatim / "cur").is_dir():
                return (
                    f"{name} is {verbatim}, but decliner reads Maildir++ ({path});"
                    " with mbsync, set SubFolders Maildir++"
                )
            return f"{name} not found (no Maildir at {path})"
        if not all(os.access(path / sub, access) for sub in ("cur", "new")):
            return f"{name} ({path}) is not {'writable' if access & os.W_OK else 'readable'}"
        return None

    problems = [p for name in cfg.folders if (p := problem(name, os.R_OK | os.X_OK))]
    sent = cfg.sent
    if sent is not None and (p := problem(sent, os.R_OK | os.W_OK | os.X_OK)):
        problems.append(f"sent folder {p}")
    detail = f"{root}: reading {', '.join(cfg.folders)}"
    detail += f"; sent copies to {sent}" if sent else "; no sent copies"
    warnings = []
    if cfg.flag_folder and problem(cfg.flag_folder, os.R_OK | os.X_OK):
        warnings.append(
            f"flag folder {cfg.flag_folder!r} does not exist at"
            f" {folder_path(root, cfg.flag_folder)}; create it to flag by folder"
        )
    if problems:
        return Check("maildir", False, f"{detail}; {'; '.join(problems)}", tuple(warnings))
    return Check("maildir", True, detail, tuple(warnings))


async def check_smtp(config: Config) -> Check:
    """Log in to SMTP (or check the Maildir transport's folder) without sending anything."""
    cfg = config.smtp
    if cfg.transport == "maildir":
        path = config.resolve_path(cfg.maildir_path)
        parent = path if path.exists() else path.parent
        if not os.access(parent, os.W_OK):
            return Check("smtp", False, f"maildir transport: {path} is not writable")
        return Check("smtp", True, f"maildir transport: messages are written to {path}, not sent")
    try:
        async with smtp.session(config) as session:
            methods = " ".join(m.upper() for m in session.auth_methods) or "none"
    except DeclinerError as exc:
        return Check("smtp", False, str(exc))
    mode = {"tls": "TLS", "starttls": "STARTTLS", "plain": "no TLS (loopback)"}[cfg.security]
    return Check("smtp", True, f"{cfg.host}:{cfg.effective_port} over {mode}; AUTH {methods}")


def check_calendar(config: Config) -> Check:
    """Log in to CalDAV; name each calendar with its event count and how it is synced."""
    from decliner.calendar.client import SyncUnsupported

    section = config.calendar
    if section is None:
        return Check("calendar", True, "no [calendar] section")
    caldav = wiring.calendar_account(config)
    found: list[str] = []
    try:
        collections = caldav.collections()
        for collection in collections:
            try:
                listing, how = caldav.sync(collection, None), "sync-collection"
            except SyncUnsupported:
                listing, how = caldav.etags(collection), "no sync-collection: CTag and ETags"
            count = len(listing.changed)
            found.append(f'"{collection.name or collection.url}" ({count} events, {how})')
    except DeclinerError as exc:
        return Check("calendar", False, str(exc))
    finally:
        caldav.close()
    if not found:
        return Check("calendar", False, f"{caldav.server}: no calendar found at {section.url}")
    action = {"decline": "declined", "delete": "deleted", "none": "left as they are"}
    detail = (
        f"{caldav.server}: {'; '.join(found)}; withdrawn events are {action[section.on_withdraw]}"
    )
    return Check("calendar", True, detail)
