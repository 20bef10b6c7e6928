"""A CalDAV account, through python-caldav: discovery, listings, reads and conditional writes.

Every failure becomes one of decliner's errors with a one-line message that names
the server and never the secret: the network or a 5xx is a `ConnectionFailure`
(retry later), a refused login an `AuthFailure`, another 4xx a `CalendarRefused`
with the server's reason. A write answers `"done"`, `"changed"` (412: someone
else changed the event since it was read) or `"gone"` (404).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urljoin, urlsplit

import niquests
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.elements import cdav, dav
from caldav.elements.base import ValuedBaseElement
from caldav.lib import error
from caldav.lib.url import URL

from decliner.config import CalendarConfig
from decliner.config.credentials import Credential
from decliner.errors import AuthFailure, ConnectionFailure, RuntimeFailure, TLSFailure

# python-caldav logs request and response headers at DEBUG; they carry the credentials.
logging.getLogger("caldav").setLevel(logging.WARNING)

T = TypeVar("T")
WriteOutcome = Literal["done", "changed", "gone"]


class CalendarRefused(RuntimeFailure):
    """The CalDAV server refused a request for good (a 4xx other than 404 and 412)."""


class SyncTokenInvalid(RuntimeFailure):
    """The server no longer knows our sync token (RFC 6578 3.2): list everything again."""


class SyncUnsupported(RuntimeFailure):
    """The collection has no sync-collection REPORT: use its CTag and ETags."""


class _GetCTag(ValuedBaseElement):
    tag = "{http://calendarserver.org/ns/}getctag"


@dataclass(frozen=True)
class Collection:
    """One calendar collection: its URL and display name."""

    url: str
    name: str


@dataclass(frozen=True)
class Resource:
    """One calendar object resource: where it is, its ETag, its text."""

    href: str
    etag: str
    text: str


@dataclass(frozen=True)
class Listing:
    """What changed in a collection: hrefs with their new ETags, hrefs gone, the next token.

    `complete` means `changed` lists every member (a first or a full listing), so
    a stored href missing from it is gone.
    """

    changed: dict[str, str]
    deleted: frozenset[str] = frozenset()
    token: str | None = None
    complete: bool = False


@dataclass
class CalDav:
    """A lazily connected CalDAV account for one `[calendar]` section."""

    config: CalendarConfig
    credential: Callable[[], Credential]
    ca_file: Path | None = None
    _client: DAVClient | None = field(default=None, init=False, repr=False)
    _renew_at: float | None = field(default=None, init=False, repr=False)
    written: dict[str, str] = field(default_factory=dict, init=False)
    """href -> the ETag our own successful PUT got, so our write is not read back as news."""

    @property
    def server(self) -> str:
        """The server's host, for messages."""
        return urlsplit(self.config.url).hostname or self.config.url

    def client(self) -> DAVClient:
        """The DAV client, made on first use (the secret is fetched then), and made again
        with a fresh token once an OAuth2 access token is due for renewal (SPEC 17)."""
        if (
            self._client is not None
            and self._renew_at is not None
            and time.time() >= self._renew_at
        ):
            self.close()
        if self._client is None:
            credential = self.credential()
            self._renew_at = credential.renew_at
            bearer = credential.mechanism == "xoauth2"
            self._client = DAVClient(
                url=self.config.url,
                username=None if bearer else credential.username,
                password=credential.secret,
                auth_type="bearer" if bearer else "basic",
                timeout=max(1, int(self.config.timeout.total_seconds())),
                ssl_verify_cert=self._verify(),
                enable_rfc6764=False,
                rate_limit_handle=False,
            )
        return self._client

    def _verify(self) -> bool | str:
        """The system's CAs plus `ca_file` (niquests takes PEM text; a path would replace them)."""
        if self.ca_file is None:
            return True
        import wassima

        try:
            extra = self.ca_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TLSFailure(f"ca_file {self.ca_file}: cannot load certificates: {exc}") from None
        return wassima.generate_ca_bundle() + "\n" + extra

    def _at(self, url: str) -> Calendar:
        return Calendar(client=self.client(), url=url)

    def close(self) -> None:
        """Drop the connection; the next call reconnects."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- discovery -------------------------------------------------------------

    def collections(self) -> list[Collection]:
        """The calendars to use: the URL itself if it is one, else the principal's, filtered
        by `calendars` (display names or URLs); none named means all of them."""
        with self._errors("discovery"):
            client = self.client()
            here = self._at(self.config.url)
            kinds = here.get_properties([dav.ResourceType()], parse_props=False)
            found: list[Calendar] = (
                [here] if _is_calendar(kinds) else _now(client.principal().get_calendars())  # type: ignore[no-untyped-call]  # python-caldav leaves it unannotated
            )
            named = [Collection(str(c.url), str(c.get_display_name() or "")) for c in found]
        wanted = self.config.calendars
        if not wanted:
            return named
        chosen = [c for c in named if c.name in wanted or _same_url(c.url, wanted)]
        missing = [
            w for w in wanted if not any(w == c.name or _same_url(c.url, [w]) for c in chosen)
        ]
        if missing:
            names = ", ".join(f'"{c.name}"' for c in named) or "none"
            raise CalendarRefused(
                f"[calendar].calendars: {', '.join(missing)} not found on {self.server}"
                f" (calendars there: {names})"
            )
        return chosen

    # -- listings --------------------------------------------------------------

    def sync(self, collection: Collection, token: str | None) -> Listing:
        """RFC 6578 sync-collection: what changed since `token` (everything, for None)."""
        with self._errors(f"calendar {collection.name or collection.url}"):
            calendar = self._at(collection.url)
            try:
                result = _now(
                    calendar.get_objects_by_sync_token(
                        sync_token=token, load_objects=False, disable_fallback=True
                    )
                )
            except error.DAVError as exc:
                preconditions = getattr(exc, "preconditions", ()) or ()
                if dav.SupportedReport.tag in preconditions:
                    raise SyncUnsupported(str(exc)) from None
                if token is not None and (
                    dav.ValidSyncToken.tag in preconditions or not preconditions
                ):
                    raise SyncTokenInvalid(f"{collection.url}: sync token expired") from None
                if isinstance(exc, error.AuthorizationError) and token is None:
                    raise SyncUnsupported(str(exc)) from None
                if isinstance(exc, error.ReportError):
                    raise SyncUnsupported(str(exc)) from None
                raise
            deleted = frozenset(_href(collection.url, str(u)) for u in result.deleted_urls)
            changed = {
                _href(collection.url, str(o.url)): o.props.get(dav.GetEtag.tag, "")
                for o in result
                if _href(collection.url, str(o.url)) not in deleted
            }
            return Listing(changed, deleted, result.sync_token, complete=token is None)

    def ctag(self, collection: Collection) -> str | None:
        """The collection's CTag (CalendarServer extension), None if it has none."""
        with self._errors(f"calendar {collection.name or collection.url}"):
            props = _now(self._at(collection.url).get_properties([_GetCTag()])) or {}
        value = props.get(_GetCTag.tag)
        return str(value) if value else None

    def etags(self, collection: Collection) -> Listing:
        """Every member of the collection with its ETag (a PROPFIND of depth 1)."""
        with self._errors(f"calendar {collection.name or collection.url}"):
            response = self.client().propfind(
                collection.url,
                props='<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/>'
                "<d:resourcetype/></d:prop></d:propfind>",
                depth=1,
            )
            if response.status >= 400:
                raise CalendarRefused(f"PROPFIND {collection.url}: {response.status}")
            props = response.expand_simple_props([dav.GetEtag()])
        base = collection.url
        members = {
            _href(base, href): values.get(dav.GetEtag.tag) or ""
            for href, values in props.items()
            if not _same_url(_href(base, href), [_href(base, base)])
        }
        return Listing(members, complete=True)

    def fetch(self, collection: Collection, hrefs: Iterable[str]) -> list[Resource]:
        """The text and ETag of these members, in one calendar-multiget REPORT."""
        urls = list(hrefs)
        if not urls:
            return []
        with self._errors(f"calendar {collection.name or collection.url}"):
            calendar = self._at(collection.url)
            # The public multiget() makes event objects; this keeps the text as served.
            results = calendar._multiget(  # noqa: SLF001 -- the text as served, unparsed
                [URL.objectify(urljoin(collection.url, u)) for u in urls]
            )
        return [
            Resource(_href(collection.url, str(href)), tags.get(dav.GetEtag.tag, ""), data)
            for href, data, tags in results
            if data
        ]

    def find(
        self, collections: Iterable[Collection], uid: str
    ) -> Iterator[tuple[Collection, Resource]]:
        """Each resource holding an event with this UID (a calendar-query REPORT per calendar)."""
        for collection in collections:
            with self._errors(f"calendar {collection.name or collection.url}"):
                calendar = self._at(collection.url)
                try:
                    found = _now(calendar.get_object_by_uid(uid))
                except error.NotFoundError:
                    continue
                href = str(found.url)
            for resource in self.fetch(collection, [href]):
                yield collection, resource

    # -- writes ----------------------------------------------------------------

    def put(self, href: str, text: str, etag: str) -> WriteOutcome:
        """Write `text` over the resource, only if it still has `etag`."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if etag:
            headers["If-Match"] = etag
        with self._errors(f"PUT {href}", write=True):
            response = self.client().put(href, text, headers)
        outcome = _outcome(response, f"PUT {href}")
        new_etag = str(response.headers.get("ETag") or "")
        if outcome == "done" and new_etag and not new_etag.startswith("W/"):
            self.written[href] = new_etag
        return outcome

    def delete(self, href: str, etag: str) -> WriteOutcome:
        """Delete the resource, only if it still has `etag`, asking for no scheduling reply."""
        # RFC 6638 8.1: without "Schedule-Reply: F" a scheduling server (Cyrus, Sabre/DAV)
        # sends the organizer a reply of its own; the letter carried ours.
        headers = {"Schedule-Reply": "F", **({"If-Match": etag} if etag else {})}
        with self._errors(f"DELETE {href}", write=True):
            response = self.client().delete(href, headers)
        return _outcome(response, f"DELETE {href}")

    # -- errors ----------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str, *, write: bool = False) -> Iterator[None]:
        try:
            yield
        except (CalendarRefused, SyncTokenInvalid, SyncUnsupported, ConnectionFailure):
            raise
        except error.AuthorizationError as exc:
            if write and _status(exc) == 403:  # logged in, but may not write here
                raise CalendarRefused(f"CalDAV {self.server}: 403 Forbidden ({what})") from None
            self.close()
            raise AuthFailure(f"CalDAV {self.server}: login refused ({what})") from None
        except error.RateLimitError:
            raise ConnectionFailure(f"CalDAV {self.server}: rate limited ({what})") from None
        except niquests.exceptions.SSLError as exc:
            self.close()
            raise TLSFailure(f"CalDAV {self.server}: TLS failed: {_short(exc)}") from None
        except niquests.exceptions.Timeout:
            self.close()
            raise ConnectionFailure(
                f"CalDAV {self.server}: no answer ({what})", timed_out=True
            ) from None
        except (niquests.exceptions.RequestException, OSError) as exc:
            self.close()
            raise ConnectionFailure(f"CalDAV {self.server}: {_short(exc)} ({what})") from None
        except error.NotFoundError as exc:
            raise CalendarRefused(f"CalDAV {self.server}: not found ({what}): {exc}") from None
        except error.DAVError as exc:
            if 400 <= _status(exc) < 500:  # a refusal; a 5xx or an unknown status may pass
                raise CalendarRefused(f"CalDAV {self.server}: {_short(exc)} ({what})") from None
            raise ConnectionFailure(f"CalDAV {self.server}: {_short(exc)} ({what})") from None


def _now(value: T | Coroutine[Any, Any, T]) -> T:
    """A result of python-caldav's sync client (its methods are typed for both clients)."""
    if isinstance(value, Coroutine):
        value.close()
        raise TypeError("python-caldav returned a coroutine to a synchronous client")
    return value


def _outcome(response: Any, what: str) -> WriteOutcome:
    status = int(response.status)
    if 200 <= status < 300:
        return "done"
    if status == 412:
        return "changed"
    if status in (404, 410):
        return "gone"
    reason = f"{what}: {status} {getattr(response, 'reason', '') or ''}".strip()
    if status >= 500 or status == 429:
        raise ConnectionFailure(reason)
    raise CalendarRefused(reason)


def _status(exc: error.DAVError) -> int:
    """The HTTP status python-caldav kept with the error (0 when it has none)."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else 0


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return (text[:200] + "...") if len(text) > 200 else text or type(exc).__name__


def _is_calendar(kinds: Any) -> bool:
    element = kinds.get(dav.ResourceType.tag) if isinstance(kinds, dict) else None
    if element is None:
        return False
    return any(child.tag == cdav.Calendar.tag for child in element)


def _href(base: str, href: str) -> str:
    """A member's absolute URL in one spelling (servers differ in what they percent-encode)."""
    return unquote(urljoin(base, href))


def _same_url(url: str, candidates: Iterable[str]) -> bool:
    def norm(u: str) -> str:
        return unquote(u).rstrip("/").lower()

    return norm(url) in {norm(c) for c in candidates}
