"""The one exception hierarchy: what the CLI prints, and with which exit status.

`UserError` (exit 2) is a mistake the user can fix in their config or command
line; `RuntimeFailure` (exit 1) is the world misbehaving (a server down, a
login refused). Both print one line and no traceback. Messages never contain
secrets: callers build them from names, hosts and server replies only.
"""

from __future__ import annotations


class DeclinerError(Exception):
    """Base of every error decliner expects; its text is shown as one line."""

    exit_code = 1


class UserError(DeclinerError):
    """A usage or configuration mistake: exit status 2."""

    exit_code = 2


class ConfigError(UserError):
    """One or more problems in a config file, each `FILE: [section].key: what`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class RuntimeFailure(DeclinerError):  # noqa: N818 -- a public name; renaming would break callers
    """Something outside decliner failed (network, server, command): exit status 1."""


class SecretError(RuntimeFailure):
    """A secret could not be obtained (missing variable, file, or failing command)."""


class ConnectionFailure(RuntimeFailure):
    """A server could not be reached or the connection broke; worth retrying.

    `timed_out` tells a silent server (a hang) from one that answered with an error.
    """

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class AuthFailure(RuntimeFailure):
    """A server refused our credentials; retrying will not help."""


class TLSFailure(RuntimeFailure):
    """TLS could not be set up as configured (bad certificate, no STARTTLS)."""


class LockedError(RuntimeFailure):
    """Another decliner daemon already holds the state database."""


class SignInNeeded(RuntimeFailure):
    """The OAuth2 provider refused the stored sign-in (or there is none): `decliner login`.

    The daemon does not stop for it: it waits with backoff, and carries on once the user
    has signed in again."""
