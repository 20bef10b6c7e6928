"""Where each OAuth2 provider signs in, and which scopes each configured part needs.

Google and Microsoft are built in: the user registers a client and gives its id. Scopes
are what the config uses: Google's mail scope, its calendar scope only with a
`[calendar]` that signs in with Google; Microsoft's IMAP and SMTP scopes (one resource,
outlook.office.com) plus `offline_access`. Microsoft mints an access token per resource,
so a refresh names the scopes of the use it is for; Google's token carries every scope
granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from decliner.config import CalendarConfig, Config, ImapConfig, SmtpConfig
from decliner.config.oauth2 import USES, OAuth2Client
from decliner.errors import UserError

GOOGLE_MAIL = "https://mail.google.com/"
GOOGLE_CALENDAR = "https://www.googleapis.com/auth/calendar"
MICROSOFT_MAIL = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
)
_MICROSOFT = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/"


@dataclass(frozen=True)
class Provider:
    """One provider's endpoints, the registered client, and the scopes per use."""

    name: str
    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str
    device_url: str
    revoke_url: str
    scopes: dict[str, tuple[str, ...]]
    """use ("imap", "smtp", "calendar") -> the scopes a token for it needs."""
    refresh_names_scope: bool = False
    """Microsoft: a refresh asks for one resource's scopes, and gets a token for it."""
    extra_authorize: tuple[tuple[str, str], ...] = ()
    """Parameters the provider needs to hand out a refresh token at all."""
    redirect_host: str = "127.0.0.1"
    """The loopback redirect's host (RFC 8252 7.3); Microsoft's portal registers only
    http://localhost for a desktop app, so the redirect names that (the listener is on
    127.0.0.1 either way)."""

    @property
    def all_scopes(self) -> tuple[str, ...]:
        """Every scope a sign-in asks for, in a stable order, each once."""
        return tuple(dict.fromkeys(s for scopes in self.scopes.values() for s in scopes))


def uses_of(config: Config, name: str) -> tuple[str, ...]:
    """The parts of the config (imap, smtp, calendar) that sign in with `name`."""
    found = []
    imap_source = config.imap.oauth2 if config.imap else ""
    for use in USES:
        section = getattr(config, use)
        if section is None:
            continue
        own = section.oauth2
        if not own and use != "imap" and not _has_own_secret(section):
            own = imap_source
        if own == name:
            found.append(use)
    return tuple(found)


def _has_own_secret(section: ImapConfig | SmtpConfig | CalendarConfig) -> bool:
    from decliner.config.credentials import has_secret

    return has_secret(section)


def names(config: Config) -> tuple[str, ...]:
    """The providers the config signs in with, each once (`login` signs in to each)."""
    found = [getattr(config, use).oauth2 for use in USES if getattr(config, use) is not None]
    return tuple(dict.fromkeys(n for n in found if n))


def provider(config: Config, name: str) -> Provider:
    """The provider called `name` with the scopes of the parts that use it."""
    table = config.oauth2.get(name)
    if table is None:
        raise UserError(f"{config.source}: [oauth2.{name}]: not configured")
    uses = uses_of(config, name) or ("imap",)
    if name == "google":
        return _google(table, uses)
    if name == "microsoft":
        return _microsoft(table, uses)
    return Provider(
        name,
        table.client_id,
        table.client_secret,
        table.authorize_url,
        table.token_url,
        table.device_url,
        "",
        dict.fromkeys(uses, tuple(table.scopes)),
    )


def _google(table: OAuth2Client, uses: tuple[str, ...]) -> Provider:
    return Provider(
        "google",
        table.client_id,
        table.client_secret,
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://oauth2.googleapis.com/device/code",
        "https://oauth2.googleapis.com/revoke",
        {use: (GOOGLE_CALENDAR if use == "calendar" else GOOGLE_MAIL,) for use in uses},
        # Without these Google gives a refresh token only at the first consent ever.
        extra_authorize=(("access_type", "offline"), ("prompt", "consent")),
    )


def _microsoft(table: OAuth2Client, uses: tuple[str, ...]) -> Provider:
    base = _MICROSOFT.format(tenant=table.tenant)
    return Provider(
        "microsoft",
        table.client_id,
        "",
        base + "authorize",
        base + "token",
        base + "devicecode",
        "",  # Microsoft has no RFC 7009 revocation endpoint
        dict.fromkeys(uses, MICROSOFT_MAIL),
        refresh_names_scope=True,
        redirect_host="localhost",
    )
