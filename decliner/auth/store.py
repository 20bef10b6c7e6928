"""The token store: one JSON file per provider beside the state db, mode 0600.

Each write goes to a temp file in the same folder, is fsynced and renamed over the old
one (and the folder fsynced), so a crash leaves the old tokens or the new ones, never a
mix. A refresh holds an exclusive lock on a sibling `.lock` file from reading the
refresh token to storing the rotated one: a CLI command and the daemon never spend one
refresh token twice (a server that rotates would take that for theft). A file that
systemd passes as a credential (`$CREDENTIALS_DIRECTORY/decliner-oauth2-NAME`) is read
too; it is read-only, so a rotated token is stored in the state directory, and of the
two the later sign-in is used.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from decliner import logs
from decliner.errors import RuntimeFailure

RENEW_EARLY_SECONDS = 300.0


@dataclass(frozen=True)
class Access:
    """An access token for one use, and when it stops working (epoch seconds)."""

    token: str = field(repr=False)
    expires_at: float
    issued_at: float

    @property
    def renew_at(self) -> float:
        """When to stop using it and get a new one: half its life, or 5 minutes, before
        it expires, whichever is sooner (so a login never races the expiry)."""
        lifetime = max(self.expires_at - self.issued_at, 0.0)
        return self.expires_at - min(RENEW_EARLY_SECONDS, lifetime / 2)


@dataclass(frozen=True)
class Tokens:
    """What a sign-in keeps: the refresh token, and the access tokens per use."""

    refresh_token: str = field(repr=False)
    access: dict[str, Access] = field(default_factory=dict, repr=False)
    signed_in_at: float = 0.0
    scopes: tuple[str, ...] = ()
    """What the user consented to at `login` (a part configured later may need more)."""

    def __post_init__(self) -> None:
        for secret in (self.refresh_token, *(a.token for a in self.access.values())):
            logs.redact(secret)


class TokenFile:
    """The stored tokens of provider `name`: read, written atomically, locked for a refresh."""

    def __init__(self, folder: Path, name: str, env: Mapping[str, str] | None = None) -> None:
        self.path = folder / f"oauth2-{name}.json"
        self.name = name
        env = os.environ if env is None else env
        creds = env.get("CREDENTIALS_DIRECTORY")
        self.credential = Path(creds) / f"decliner-oauth2-{name}" if creds else None

    def load(self) -> Tokens | None:
        """The stored tokens, or None when nobody signed in (or `logout` ran); of the state
        directory's and the credential's, the later sign-in."""
        found = [t for t in (_read(self.path), _read(self.credential)) if t is not None]
        return max(found, key=lambda t: t.signed_in_at, default=None)

    def save(self, tokens: Tokens) -> None:
        """Replace the stored tokens atomically (temp file, fsync, rename, fsync the folder)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = {
            "refresh_token": tokens.refresh_token,
            "signed_in_at": tokens.signed_in_at,
            "scopes": list(tokens.scopes),
            "access": {
                use: {"token": a.token, "expires_at": a.expires_at, "issued_at": a.issued_at}
                for use, a in tokens.access.items()
            },
        }
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), 0o600)
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temp).replace(self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        _fsync_folder(self.path.parent)

    def delete(self) -> bool:
        """Forget the tokens; whether there were any in the state directory."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        _fsync_folder(self.path.parent)
        return True

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the refresh lock for the block (other processes wait)."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _read(path: Path | None) -> Tokens | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RuntimeFailure(
            f"{path}: cannot read the stored sign-in ({exc.__class__.__name__});"
            " sign in again: decliner login"
        ) from None
    return _tokens(data, path)


def _tokens(data: Any, path: Path) -> Tokens:
    try:
        access = {
            use: Access(str(a["token"]), float(a["expires_at"]), float(a["issued_at"]))
            for use, a in dict(data.get("access") or {}).items()
        }
        return Tokens(
            str(data["refresh_token"]),
            access,
            float(data.get("signed_in_at", 0)),
            tuple(str(s) for s in data.get("scopes") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RuntimeFailure(
            f"{path}: the stored sign-in is not in decliner's format; sign in again: decliner login"
        ) from None


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
