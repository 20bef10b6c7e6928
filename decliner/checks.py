"""`decliner check`: validate the config and templates, then try each server for real.

Each step yields a `Check` (a pass/fail line plus warnings); the CLI only prints them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from decliner import imap, smtp
from decliner.config import Config
from decliner.errors import DeclinerError

BUILTIN_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Check:
    """The outcome of one step of `check`: a name, pass/fail, and what was seen."""

    name: str
    ok: bool
    detail: str
    warnings: tuple[str, ...] = ()


def check_config(config: Config) -> Check:
    """The config itself: it loaded, so it is valid; say which source and zone it uses."""
    source = "IMAP" if config.imap else "Maildir"
    zone = config.account.timezone or f"{config.account.zone} (system)"
    return Check("config", True, f"{config.source} ({source} source, time zone {zone})")


def check_templates(config: Config) -> Check:
    """Every template, built-in and configured, compiles in the sandbox."""
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined)
    builtin = sorted(BUILTIN_TEMPLATES.glob("*.j2"))
    configured = [
        (key, config.resolve_path(value))
        for key, value in (
            ("[withdrawal].template", config.withdrawal.template),
            ("[followup].template", config.followup.template),
        )
        if value
    ]
    problems: list[str] = []
    for key, path in [("built-in", p) for p in builtin] + configured:
        try:
            env.parse(path.read_text(encoding="utf-8"), name=path.name, filename=str(path))
        except OSError as exc:
            problems.append(f"{key}: cannot read {path}: {exc.strerror}")
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{key}: {path}:{exc.lineno}: {exc.message}")
        except UnicodeDecodeError:
            problems.append(f"{key}: {path}: not UTF-8 text")
    if problems:
        return Check("templates", False, "; ".join(problems))
    names = [p.name for p in builtin] + [str(path) for _key, path in configured]
    return Check("templates", True, ", ".join(names) or "none")


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
