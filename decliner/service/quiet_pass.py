"""A quiet `run --once`: when nothing can have changed since a pass that left nothing to
do, prove it with one EXAMINE per folder and end, without validating the config again,
planning or loading what a pass parses and writes with (issue 28).

A full pass that leaves no work open seals the state db (`store/seal.py`): the count of
its changes, the digest of the config it validated, and the plan of this check (the
IMAP server, login and folders, without the secret). The next `run --once` ends here
when the config file has the same bytes, the db has had no write since (no flag, no
schedule, no mail read: any would have changed the count), and each folder's
UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and message count are what the db holds; a full
pass would then read nothing, plan nothing and send nothing. Anything else (no seal,
another config, a change, no CONDSTORE, a folder that does not open) leaves the work to
the full pass; an error the full pass would report the same way (the lock, the secret,
the login) is raised here as there.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from decliner import __version__
from decliner.config import paths, secret_sources
from decliner.config.secret_sources import Credential
from decliner.errors import RuntimeFailure
from decliner.mail.imap.endpoint import Endpoint
from decliner.mail.imap.examine import folder_states
from decliner.mail.ports import ScanReport
from decliner.service.report import PassReport
from decliner.store import Store, mailbox
from decliner.store import seal as seal_db

if TYPE_CHECKING:
    from decliner.config import Config


@dataclass(frozen=True)
class Outcome:
    """The quiet pass's report, or None for a full pass, which may reuse the credential
    fetched here (a password command is run once per `run --once`)."""

    report: PassReport | None = None
    credential: Credential | None = None


_handed: list[Outcome] = []


def hand_over(outcome: Outcome) -> None:
    """Keep an attempt's outcome for the full pass the CLI is about to run."""
    _handed[:] = [outcome]


def handed_over() -> Outcome | None:
    """The outcome `hand_over` kept, once; None if there is none."""
    return _handed.pop() if _handed else None


def digest(text: str, path: Path, rules: Path | None = None) -> str:
    """What a seal's config is known by: its bytes, where it is (relative paths resolve
    from there) and the decliner that validated it: its version and the files of its
    config package, `rules` (an update that changes the rules breaks every seal, released
    or not)."""
    package = rules or Path(paths.__file__).parent
    stats = {p.name: p.stat() for p in package.glob("*.py")}
    files = sorted(f"{name}:{st.st_mtime_ns}:{st.st_size}" for name, st in stats.items())
    material = "\0".join([__version__, *files, str(path.resolve()), text])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def plan_of(config: Config, folders: list[str]) -> dict[str, Any] | None:
    """What the quiet check needs of a validated config that read `folders`, or None where
    every `run --once` must be a full pass: a Maildir source, a `[calendar]` (its changes
    are seen only by asking it), `[[cancel]]` rules, or a sign-in (`oauth2`, whose tokens
    need renewing)."""
    from decliner.config.credentials import plain_source
    from decliner.mail.imap.connection import endpoint_of
    from decliner.mail.imap.scan import watched

    imap = config.imap
    if imap is None or config.maildir or config.calendar or config.cancel:
        return None
    source = plain_source(imap)
    if source is None or folders != watched(imap):
        return None
    server = endpoint_of(config)
    return {
        "host": server.host,
        "port": server.port,
        "security": server.security,
        "ca_file": str(server.ca_file) if server.ca_file else None,
        "timeout": server.timeout,
        "username": imap.username or config.account.email,
        "secret": list(source),
        "folders": folders,
    }


def attempt(config_path: Path | None, env: Mapping[str, str] | None = None) -> Outcome:
    """The quiet pass, if nothing changed since the seal; else an Outcome without report."""
    env = os.environ if env is None else env
    path = config_path or paths.default_path(env)
    try:
        text = path.read_bytes().decode("utf-8")
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return Outcome()  # the full pass says what is wrong
    db = _state_path(raw, path, env)
    if db is None or not db.exists():
        return Outcome()
    try:
        store = Store.open_readonly(db)
    except RuntimeFailure:
        return Outcome()  # an older schema: the full pass upgrades it
    with store:
        return _check(store, digest(text, path), raw, path, env)


def _check(
    store: Store, sealed: str, raw: dict[str, Any], path: Path, env: Mapping[str, str]
) -> Outcome:
    seal = seal_db.read(store.connection)
    count = seal_db.changes(store.connection)
    if seal is None or seal.digest != sealed or seal.changes != count:
        return Outcome()
    store.lock_daemon()  # a running daemon: the same error as the full pass's
    plan = seal.plan
    credential = _credential(plan, raw, path, env)
    if not _folders_unchanged(store, plan, credential):
        return Outcome(credential=credential)
    if seal_db.changes(store.connection) != count:  # a command wrote meanwhile
        return Outcome(credential=credential)
    return Outcome(PassReport(scan=ScanReport(folders=list(plan["folders"]))), credential)


def _state_path(raw: dict[str, Any], path: Path, env: Mapping[str, str]) -> Path | None:
    state = raw.get("state", {})
    configured = state.get("path", "") if isinstance(state, dict) else None
    return paths.state_path(path, configured, env) if isinstance(configured, str) else None


def _credential(
    plan: dict[str, Any], raw: dict[str, Any], path: Path, env: Mapping[str, str]
) -> Credential:
    """The IMAP login the seal names, fetched as the full pass would fetch it."""
    key, value = plan["secret"]
    if key == "password":  # the sealed bytes hold it; the seal does not
        value = raw["imap"]["password"]
    where = f"[imap].{key}"
    secret, mechanism = secret_sources.fetch(
        where, key, value, env, lambda name: paths.resolve(path, name)
    )
    return Credential(plan["username"], secret, mechanism)


def _folders_unchanged(store: Store, plan: dict[str, Any], credential: Credential) -> bool:
    """Whether every sealed folder is, by its EXAMINE response, as the db holds it."""
    ca_file = plan["ca_file"]
    server = Endpoint(
        plan["host"],
        plan["port"],
        plan["security"],
        Path(ca_file) if ca_file else None,
        plan["timeout"],
    )
    states = folder_states(server, credential, plan["folders"])
    if states is None:
        return False
    return all(state == mailbox.folder(store.connection, state.name) for state in states)
