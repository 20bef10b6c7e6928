"""Server settings of well-known mail providers, for `decliner init` (as Thunderbird's autoconfig).

Data only, one entry per provider, each with where its values come from. The
Thunderbird ISPDB (https://autoconfig.thunderbird.net/v1.1/<domain>) is the
first source; the provider's own help page where the ISPDB has no entry or
differs. Matching is by the address's exact domain, case-insensitively: a
company's own domain hosted at Google or Microsoft cannot be told from its
name, so `init --provider` names the provider instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decliner.config.schema import Security


@dataclass(frozen=True, slots=True)
class Server:
    """One server: host, port and security as the config's keys take them."""

    host: str
    port: int
    security: Security


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider's IMAP and SMTP servers, and how best to log in to it."""

    key: str  # the `init --provider` name
    name: str
    domains: tuple[str, ...]
    imap: Server
    smtp: Server
    source: str
    secret_advice: tuple[str, ...] = ()  # comment lines put above the secret source
    note: str = ""  # one comment line put above [imap]
    caldav: str = ""  # the CalDAV URL for the commented [calendar] (docs/calendar.md); {email}
    oauth2: str = ""  # a built-in sign-in ("google", "microsoft"): init writes it (SPEC 17)


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        key="gmail",
        name="Gmail",
        domains=("gmail.com", "googlemail.com"),
        imap=Server("imap.gmail.com", 993, "tls"),
        smtp=Server("smtp.gmail.com", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/gmail.com",
        secret_advice=(
            "Gmail: sign in with Google (oauth2 below; register a client in [oauth2.google]",
            "at the end of this file, then run `decliner login`). Instead: an app password",
            "(needs 2-Step Verification) in password_command, or a token helper such as oama:",
            'oauth2_token_command = "oama access {email}"',
            "Google Workspace on your own domain: `decliner init --provider gmail`.",
        ),
        caldav="https://apidata.googleusercontent.com/caldav/v2/{email}/events/",
        oauth2="google",
    ),
    Provider(
        key="microsoft",
        name="Outlook.com / Microsoft 365",
        domains=("outlook.com", "hotmail.com", "live.com", "msn.com"),
        imap=Server("outlook.office365.com", 993, "tls"),
        smtp=Server("smtp.office365.com", 587, "starttls"),
        source="https://autoconfig.thunderbird.net/v1.1/outlook.com;"
        " https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/"
        "pop3-and-imap4/pop3-and-imap4",
        secret_advice=(
            "Microsoft: sign in with Microsoft (oauth2 below; register an app in",
            "[oauth2.microsoft] at the end of this file, then run `decliner login`);",
            "Outlook.com and Microsoft 365 refuse passwords and app passwords for IMAP.",
            "Or a token helper such as pizauth:",
            'oauth2_token_command = "pizauth show outlook"',
            "Microsoft 365 on your own domain: `decliner init --provider microsoft`.",
        ),
        oauth2="microsoft",
    ),
    Provider(
        key="fastmail",
        name="Fastmail",
        domains=("fastmail.com", "fastmail.fm"),
        imap=Server("imap.fastmail.com", 993, "tls"),
        smtp=Server("smtp.fastmail.com", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/fastmail.com",
        secret_advice=("Fastmail: an app password (Settings > Privacy & Security).",),
        caldav="https://caldav.fastmail.com/dav/",
    ),
    Provider(
        key="icloud",
        name="iCloud Mail",
        domains=("icloud.com", "me.com", "mac.com"),
        imap=Server("imap.mail.me.com", 993, "tls"),
        smtp=Server("smtp.mail.me.com", 587, "starttls"),
        source="https://support.apple.com/en-us/102525",
        secret_advice=("iCloud: an app-specific password (account.apple.com > Sign-In).",),
        caldav="https://caldav.icloud.com/",
    ),
    Provider(
        key="yahoo",
        name="Yahoo Mail",
        domains=("yahoo.com",),
        imap=Server("imap.mail.yahoo.com", 993, "tls"),
        smtp=Server("smtp.mail.yahoo.com", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/yahoo.com",
        secret_advice=("Yahoo: an app password (Account security > Generate app password).",),
    ),
    Provider(
        key="aol",
        name="AOL Mail",
        domains=("aol.com",),
        imap=Server("imap.aol.com", 993, "tls"),
        smtp=Server("smtp.aol.com", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/aol.com",
        secret_advice=("AOL: an app password (Account security > Generate app password).",),
    ),
    Provider(
        key="gmx",
        name="GMX",
        domains=("gmx.de", "gmx.net"),
        imap=Server("imap.gmx.net", 993, "tls"),
        smtp=Server("mail.gmx.net", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/gmx.net",
        secret_advice=("GMX: enable IMAP in the web mail settings first.",),
    ),
    Provider(
        key="gmx.com",
        name="GMX (gmx.com)",
        domains=("gmx.com",),
        imap=Server("imap.gmx.com", 993, "tls"),
        smtp=Server("mail.gmx.com", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/gmx.com",
        secret_advice=("GMX: enable IMAP in the web mail settings first.",),
    ),
    Provider(
        key="webde",
        name="WEB.DE",
        domains=("web.de",),
        imap=Server("imap.web.de", 993, "tls"),
        smtp=Server("smtp.web.de", 587, "starttls"),
        source="https://autoconfig.thunderbird.net/v1.1/web.de",
        secret_advice=("WEB.DE: enable IMAP in the web mail settings first.",),
    ),
    Provider(
        key="mailbox.org",
        name="mailbox.org",
        domains=("mailbox.org",),
        imap=Server("imap.mailbox.org", 993, "tls"),
        smtp=Server("smtp.mailbox.org", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/mailbox.org",
        caldav="https://dav.mailbox.org/",
    ),
    Provider(
        key="posteo",
        name="Posteo",
        domains=("posteo.de",),
        imap=Server("posteo.de", 993, "tls"),
        smtp=Server("posteo.de", 465, "tls"),
        source="https://autoconfig.thunderbird.net/v1.1/posteo.de",
        caldav="https://posteo.de:8443/",
    ),
    Provider(
        key="proton",
        name="Proton Mail (through Proton Mail Bridge)",
        domains=("proton.me", "protonmail.com"),
        imap=Server("127.0.0.1", 1143, "starttls"),
        smtp=Server("127.0.0.1", 1025, "starttls"),
        source="https://proton.me/support/imap-smtp-and-pop3-setup",
        secret_advice=("Proton: the password Bridge shows for this account, not your Proton one.",),
        note=(
            "Proton Mail speaks IMAP only through Proton Mail Bridge, running on this machine;"
            " export Bridge's certificate (Settings > Export TLS certificates) and set ca_file"
            " in [imap] and [smtp] to it."
        ),
    ),
    Provider(
        key="zoho",
        name="Zoho Mail",
        domains=("zoho.com",),
        imap=Server("imap.zoho.com", 993, "tls"),
        smtp=Server("smtp.zoho.com", 465, "tls"),
        source="https://www.zoho.com/mail/help/imap-access.html",
        secret_advice=("Zoho: enable IMAP access in the settings; an app password with 2FA.",),
    ),
)


def for_domain(email: str) -> Provider | None:
    """The provider of `email`'s exact domain (case-insensitive), if known."""
    domain = email.rpartition("@")[2].casefold()
    return next((p for p in PROVIDERS if domain in p.domains), None)


def by_key(key: str) -> Provider | None:
    """The provider named `key` (as `init --provider` takes it)."""
    return next((p for p in PROVIDERS if p.key == key), None)
