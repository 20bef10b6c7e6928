"""Fetch a secret from the one source a config section names, given as plain strings.

The validated config (`credentials.py`) and a quiet `run --once` that has not validated
it (`service/quiet_pass.py`) both fetch through here. The secret never appears in a
message raised from here: errors name the config key, the variable, the file or the
command, and nothing they produced.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from decliner import logs
from decliner.errors import SecretError

COMMAND_TIMEOUT = 60.0

Mechanism = Literal["password", "xoauth2"]


@dataclass(frozen=True)
class Credential:
    """A login: the user name and a password or an OAuth2 access token."""

    username: str
    secret: str = field(repr=False)
    mechanism: Mechanism = "password"
    renew_at: float | None = None
    """When an OAuth2 access token should be replaced (epoch seconds); None: never."""
    renew: Callable[[], Credential] | None = field(default=None, repr=False, compare=False)
    """For a stored sign-in: a new token, after a server refused this one."""

    def __post_init__(self) -> None:
        # Defense in depth: should a secret ever reach a log line, it is masked there.
        logs.redact(self.secret)


def fetch(
    where: str, key: str, value: str, env: Mapping[str, str], resolve: Callable[[str], Path]
) -> tuple[str, Mechanism]:
    """The secret the source `key` with `value` holds, and how it logs in; `where` names the
    key in errors (`[imap].password_file`), `resolve` anchors a relative file name. Sign-in
    (`oauth2`) is not a plain source: `credentials.py` handles it."""
    if key == "password":
        return value, "password"
    if key == "password_env":
        if not env.get(value):
            raise SecretError(f"{where}: environment variable {value} is not set or empty")
        return env[value], "password"
    if key == "password_file":
        return read_file(where, value, env, resolve), "password"
    if key == "password_command":
        return run(where, value, env), "password"
    if key == "oauth2_token_command":
        return run(where, value, env), "xoauth2"
    raise SecretError(f"{where}: not a secret source")


def read_file(where: str, name: str, env: Mapping[str, str], resolve: Callable[[str], Path]) -> str:
    """The first line of a secret file: systemd's credentials folder first, then the path."""
    candidates = []
    creds = env.get("CREDENTIALS_DIRECTORY")
    if creds and not Path(name).expanduser().is_absolute():
        candidates.append(Path(creds) / name)
    candidates.append(resolve(name))
    for path in candidates:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretError(f"{where}: cannot read {path}: {exc.__class__.__name__}") from None
        if not lines or not lines[0].strip():
            raise SecretError(f"{where}: {path} is empty")
        return lines[0].strip()
    raise SecretError(f"{where}: no such file: {' or '.join(map(str, candidates))}")


def run(where: str, command: str, env: Mapping[str, str]) -> str:
    """The first stdout line of a shell command; its output never reaches an error."""
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", command],
            capture_output=True,
            timeout=COMMAND_TIMEOUT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SecretError(
            f"{where}: `{command}` did not finish in {COMMAND_TIMEOUT:.0f}s"
        ) from None
    except OSError as exc:
        raise SecretError(f"{where}: cannot run `{command}`: {exc.strerror}") from None
    if done.returncode != 0:
        raise SecretError(f"{where}: `{command}` failed with exit status {done.returncode}")
    first = done.stdout.decode("utf-8", "replace").partition("\n")[0].strip()
    if not first:
        raise SecretError(f"{where}: `{command}` printed nothing")
    return first
