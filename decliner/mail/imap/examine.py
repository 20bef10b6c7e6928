"""The quiet check's IMAP session over imaplib alone: log in, EXAMINE each folder, log out.

A quiet `run --once` reads nothing but each folder's UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ
and message count; importing imapclient (and the package metadata it reads) would be a
fifth of such a run. What this session cannot do as the full pass's client does (a
folder name that is not plain ASCII, a server without CONDSTORE, a folder that does not
open) answers None, and the full pass takes over. Errors are worded as `connection.py`
words them.
"""

from __future__ import annotations

import contextlib
import imaplib
from collections.abc import Callable, Iterator

from decliner import tls
from decliner.config.secret_sources import Credential
from decliner.errors import ConnectionFailure, DeclinerError, TLSFailure
from decliner.mail.imap.endpoint import Endpoint, network_failure, refused, text_of
from decliner.store.mailbox import FolderState


def folder_states(
    server: Endpoint, credential: Credential, folders: list[str]
) -> list[FolderState] | None:
    """Each folder's state as EXAMINE reports it, in order; None where the full pass must
    look instead."""
    if not all(_plain(name) for name in folders):
        return None
    with _errors(server) as login_as:
        conn = _connect(server)
        try:
            login_as(credential.username)
            conn.untagged_responses.pop("CAPABILITY", None)
            _login(conn, credential)
            capabilities = _capabilities(conn)
            login_as("")
            if "CONDSTORE" not in capabilities or "ENABLE" not in capabilities:
                return None
            conn.capabilities = capabilities
            conn.enable("CONDSTORE")  # as the full pass does, so HIGHESTMODSEQ is reported
            states = []
            for name in folders:
                state = _examine(conn, name)
                if state is None:
                    return None
                states.append(state)
            return states
        finally:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                conn.logout()


def _plain(name: str) -> bool:
    """A name sent as a quoted string as it is (modified UTF-7 leaves printable ASCII
    but "&" alone)."""
    return name.isascii() and name.isprintable() and "&" not in name


def _connect(server: Endpoint) -> imaplib.IMAP4:
    context = tls.client_context(server.ca_file) if server.security != "plain" else None
    if server.security == "tls":
        return imaplib.IMAP4_SSL(
            server.host, server.port, ssl_context=context, timeout=server.timeout
        )
    conn = imaplib.IMAP4(server.host, server.port, timeout=server.timeout)
    if server.security == "starttls":
        if "STARTTLS" not in conn.capabilities:
            conn.shutdown()
            raise TLSFailure(
                f"{server.where}: server does not offer STARTTLS; refusing to log in unencrypted"
            )
        conn.starttls(context)
    return conn


def _login(conn: imaplib.IMAP4, credential: Credential) -> None:
    """LOGIN with a password; with a token, OAUTHBEARER where offered, else XOAUTH2."""
    user, secret = credential.username, credential.secret
    if credential.mechanism == "password":
        conn.login(user, secret)
    elif "AUTH=OAUTHBEARER" in conn.capabilities:
        conn.authenticate("OAUTHBEARER", _once(f"n,a={user},\x01auth=Bearer {secret}\x01\x01"))
    else:
        conn.authenticate("XOAUTH2", _once(f"user={user}\x01auth=Bearer {secret}\x01\x01"))


def _capabilities(conn: imaplib.IMAP4) -> tuple[str, ...]:
    """What the server offers once logged in: as its answer to the login listed them
    (`[CAPABILITY ...]`, as Dovecot sends; imaplib keeps that with the untagged answers),
    else asked for."""
    listed = (conn.untagged_responses.pop("CAPABILITY", None) or [b""])[-1]
    if not isinstance(listed, bytes) or not listed:
        _, data = conn.capability()
        listed = data[-1] if data and isinstance(data[-1], bytes) else b""
    return tuple(listed.decode("ascii", "replace").upper().split())


def _once(initial: str) -> Callable[[bytes], bytes]:
    """An authenticator sending `initial`, then an empty line to a server's error
    challenge (RFC 7628), so the server ends the exchange with its NO."""
    answers = iter([initial.encode()])
    return lambda _challenge: next(answers, b"")


def _examine(conn: imaplib.IMAP4, name: str) -> FolderState | None:
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    typ, _ = conn.select(quoted, readonly=True)
    if typ != "OK":
        return None
    found = conn.untagged_responses

    def number(key: str) -> int | None:
        value = (found.get(key) or [b""])[-1]
        return int(value) if isinstance(value, bytes) and value.isdigit() else None

    uidvalidity, uidnext = number("UIDVALIDITY"), number("UIDNEXT")
    modseq, exists = number("HIGHESTMODSEQ"), number("EXISTS")
    if uidvalidity is None or uidnext is None or modseq is None:
        return None
    return FolderState(name, uidvalidity, uidnext, modseq, exists or 0)


@contextlib.contextmanager
def _errors(server: Endpoint) -> Iterator[Callable[[str], None]]:
    """Library errors inside the block as decliner errors naming the server; the block
    says whose login is under way (a refusal then is an AuthFailure naming the user)."""
    user = [""]

    def login_as(name: str) -> None:
        user[0] = name

    try:
        yield login_as
    except DeclinerError:
        raise
    except imaplib.IMAP4.abort as exc:
        raise ConnectionFailure(f"{server.where}: {text_of(exc)}") from None
    except imaplib.IMAP4.error as exc:
        if user[0]:
            raise refused(server, user[0], exc) from None
        raise ConnectionFailure(f"{server.where}: {text_of(exc)}") from None
    except OSError as exc:
        raise network_failure(server, exc) from None
