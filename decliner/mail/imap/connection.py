"""The IMAP port: connect, secure, log in, and map library errors onto ours.

imapclient raises a mix of its own, imaplib's, ssl's and socket errors; here they
become `ConnectionFailure` (retry later), `AuthFailure` (fix the config) or
`TLSFailure`, each naming the server and never the secret.
"""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from decliner import tls
from decliner.config.secret_sources import Credential
from decliner.errors import ConnectionFailure, DeclinerError, TLSFailure
from decliner.mail.imap.endpoint import Endpoint, network_failure, refused, text_of

if TYPE_CHECKING:
    from decliner.config import Config

USED_CAPABILITIES = ("IDLE", "CONDSTORE", "SPECIAL-USE", "MOVE")


@dataclass(frozen=True)
class Server:
    """What a logged-in IMAP server offers that decliner cares about."""

    capabilities: frozenset[str]
    folders: tuple[str, ...]
    sent_folder: str | None

    def has(self, capability: str) -> bool:
        """Whether the server advertises `capability` (case-insensitive)."""
        return capability.upper() in self.capabilities


def endpoint_of(config: Config) -> Endpoint:
    """The `[imap]` server of `config`."""
    imap = config.need_imap()
    return Endpoint(
        imap.host,
        imap.effective_port,
        imap.security,
        config.resolve_path(imap.ca_file) if imap.ca_file else None,
        imap.timeout.total_seconds(),
    )


@contextmanager
def errors_named(server: Endpoint, credential: Credential | None = None) -> Iterator[None]:
    """Translate any library error inside the block into a decliner error naming the server."""
    try:
        yield
    except DeclinerError:
        raise
    except LoginError as exc:
        raise refused(server, credential.username if credential else "?", exc) from None
    except OSError as exc:
        raise network_failure(server, exc) from None
    except (IMAPClientError, imaplib.IMAP4.error) as exc:
        raise ConnectionFailure(f"{server.where}: {text_of(exc)}") from None


def connect(config: Config, credential: Credential | None = None) -> IMAPClient:
    """A logged-in client over the configured security; the caller logs out."""
    if credential is None:
        from decliner.config.credentials import imap_credential

        credential = imap_credential(config)
    return open_client(endpoint_of(config), credential)


def open_client(server: Endpoint, credential: Credential) -> IMAPClient:
    """A client logged in to `server` with `credential`, CONDSTORE enabled where offered."""
    # Loading the system's CA store is a tenth of a quiet pass: only for a secured connection.
    context = tls.client_context(server.ca_file) if server.security != "plain" else None
    with errors_named(server, credential):
        client = IMAPClient(
            server.host,
            server.port,
            ssl=server.security == "tls",
            ssl_context=context,
            timeout=server.timeout,
        )
        try:
            if server.security == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise TLSFailure(  # noqa: TRY301 -- ours, and the try only maps library errors
                        f"{server.where}: server does not offer STARTTLS; refusing to log in unencrypted"
                    )
                client.starttls(context)
            _login(client, credential)
            if client.has_capability("CONDSTORE"):
                # Must precede any SELECT for the server to report HIGHESTMODSEQ.
                client.enable("CONDSTORE")
        except BaseException:
            _close(client)
            raise
    return client


def _login(client: IMAPClient, credential: Credential) -> None:
    """Log in; a refused OAuth2 token from the stored sign-in is renewed and tried once more."""
    if credential.mechanism != "xoauth2":
        client.login(credential.username, credential.secret)
        return
    bearer = client.has_capability("AUTH=OAUTHBEARER")
    try:
        _bearer_login(client, credential, oauthbearer=bearer)
    except LoginError:
        if credential.renew is None:
            raise
        _bearer_login(client, credential.renew(), oauthbearer=bearer)


def _bearer_login(client: IMAPClient, credential: Credential, *, oauthbearer: bool) -> None:
    if oauthbearer:  # the standard one (RFC 7628) where offered
        client.oauthbearer_login(credential.username, credential.secret)
    else:
        client.oauth2_login(credential.username, credential.secret)


@contextmanager
def session(config: Config, credential: Credential | None = None) -> Iterator[IMAPClient]:
    """A logged-in client for the block, logged out afterwards."""
    client = connect(config, credential)
    try:
        with errors_named(endpoint_of(config), credential):
            yield client
    finally:
        _close(client, logout=True)


def _close(client: IMAPClient, *, logout: bool = False) -> None:
    try:
        if logout:
            client.logout()
        else:
            client.shutdown()
    except (OSError, IMAPClientError, imaplib.IMAP4.error):
        # The connection is being dropped anyway; nothing more can be learnt.
        return


def describe_server(client: IMAPClient) -> Server:
    r"""The capabilities and folders of a logged-in server, and its `\Sent` folder."""
    capabilities = frozenset(c.decode().upper() for c in client.capabilities())
    listing = client.list_folders()
    folders = tuple(name for _flags, _delim, name in listing)
    sent = next((name for flags, _d, name in listing if b"\\Sent" in flags), None)
    return Server(capabilities, folders, sent)


def sent_folder(config: Config, server: Server) -> str | None:
    r"""Where sent copies go: `[imap].sent_folder`, else the `\Sent` folder; None for "none"."""
    configured = config.need_imap().sent_folder
    if configured == "none":
        return None
    return configured or server.sent_folder


def has_message_id(client: IMAPClient, folder: str, message_id: str) -> bool:
    """Whether `folder` holds a message with this Message-ID (e.g. filed by the provider)."""
    client.select_folder(folder, readonly=True)
    return bool(client.search(["HEADER", "Message-ID", message_id]))


def append_sent(client: IMAPClient, folder: str, raw: bytes, when: datetime) -> None:
    r"""File our exact bytes in the sent folder, marked `\Seen`."""
    client.append(folder, raw, flags=[b"\\Seen"], msg_time=when)


def mark_answered(client: IMAPClient, folder: str, uid: int) -> None:
    r"""Set `\Answered` on the invite we replied to, as a mail client would."""
    client.select_folder(folder)
    client.add_flags([uid], [b"\\Answered"], silent=True)


def remove_keyword(client: IMAPClient, folder: str, uids: list[int], keyword: str) -> None:
    """Take the flag keyword off invite messages (`decliner unflag`)."""
    client.select_folder(folder)
    client.remove_flags(uids, [keyword], silent=True)
