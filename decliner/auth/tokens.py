"""Access tokens for IMAP, SMTP and CalDAV from the stored sign-in, refreshed before they expire.

A token is refreshed once less than half its lifetime (at most 5 minutes) is left, so a
connection never logs in with one about to lapse, and when a server refused it. The refresh happens under the store's
lock, and a rotated refresh token is stored (atomically) before the new access token is
returned for use. A refusal by the provider is a `SignInNeeded` ("sign in again:
decliner login"); an unreachable token endpoint a `ConnectionFailure`, retried later.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from decliner import failpoints
from decliner.auth import advice, providers
from decliner.auth.providers import Provider
from decliner.auth.store import Access, TokenFile, Tokens
from decliner.config import Config
from decliner.errors import ConnectionFailure, RuntimeFailure, SignInNeeded

TIMEOUT = 30.0
# Scopes a provider grants but need not list in its answer: they name no resource.
_NOT_RESOURCES = {"offline_access", "openid", "profile", "email"}


def token_file(config: Config, name: str, env: Mapping[str, str] | None = None) -> TokenFile:
    """Where provider `name`'s tokens are kept: beside the state db."""
    return TokenFile(Path(config.state_path()).parent, name, env)


def access_token(
    config: Config,
    name: str,
    use: str,
    *,
    refused: str = "",
    clock: Callable[[], float] = time.time,
) -> Access:
    """A usable access token of provider `name` for `use` ("imap", "smtp", "calendar");
    never the `refused` one (a server turned it away: a new one is fetched)."""
    provider = providers.provider(config, name)
    store = token_file(config, name)
    with store.locked():
        tokens = store.load()
        if tokens is None:
            raise SignInNeeded(f"not signed in to {name}; sign in: decliner login")
        missing = set(provider.scopes.get(use, ())) - set(tokens.scopes) - _NOT_RESOURCES
        if tokens.scopes and missing:
            raise SignInNeeded(
                f"the sign-in at {name} does not cover {use} ({' '.join(sorted(missing))});"
                " sign in again: decliner login"
            )
        cached = tokens.access.get(use)
        if cached is not None and cached.token != refused and clock() < cached.renew_at:
            return cached
        fresh = refresh(provider, tokens, use, clock)
        failpoints.hit("token-refreshed")
        store.save(fresh)
    return fresh.access[use]


def refresh(provider: Provider, tokens: Tokens, use: str, clock: Callable[[], float]) -> Tokens:
    """Spend the refresh token for a new access token for `use` (and a rotated refresh
    token when the provider sends one); the stored access tokens for other uses stay."""
    scopes = provider.scopes.get(use, provider.all_scopes)
    extra = {"scope": " ".join(scopes)} if provider.refresh_names_scope else {}
    now = clock()
    answer = call(
        provider,
        lambda session: session.refresh_token(
            provider.token_url, refresh_token=tokens.refresh_token, **extra
        ),
        days_signed_in=(now - tokens.signed_in_at) / 86400 if tokens.signed_in_at else 0,
    )
    return merge(provider, tokens, answer, use, now)


def merge(
    provider: Provider, tokens: Tokens, answer: Mapping[str, Any], use: str, now: float
) -> Tokens:
    """`tokens` with the token endpoint's `answer` for `use` in; a token that carries the
    same scopes serves every use that needs them."""
    try:
        token = str(answer["access_token"])
        expires_in = float(answer.get("expires_in") or 3600)
    except (KeyError, TypeError, ValueError):
        raise RuntimeFailure(f"{provider.token_url}: the answer holds no access token") from None
    access = Access(token, now + expires_in, now)
    wanted = provider.scopes.get(use)
    shared = {
        u: access
        for u, s in provider.scopes.items()
        if s == wanted or not provider.refresh_names_scope
    }
    return Tokens(
        str(answer.get("refresh_token") or tokens.refresh_token),
        {**tokens.access, use: access, **shared},
        tokens.signed_in_at or now,
        tokens.scopes,
    )


def session(provider: Provider, **options: Any) -> Any:
    """An Authlib OAuth2Session for `provider`'s registered client."""
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        provider.client_id,
        provider.client_secret or None,
        token_endpoint_auth_method="client_secret_post" if provider.client_secret else "none",
        default_timeout=TIMEOUT,
        **options,
    )


def call(
    provider: Provider, request: Callable[[Any], Any], *, days_signed_in: float = 0, **options: Any
) -> Any:
    """Run one request on a fresh session; provider errors in words, network errors retryable."""
    import requests
    from authlib.integrations.base_client import OAuthError

    where = f"sign-in at {provider.name}"
    try:
        with session(provider, **options) as client:
            return request(client)
    except OAuthError as exc:
        text = advice.explain(
            str(exc.error),
            str(exc.description or ""),
            provider=provider.name,
            days_signed_in=days_signed_in,
        )
        if exc.error in {"invalid_grant", "invalid_client", "unauthorized_client"} or (
            exc.description and "AADSTS" in str(exc.description)
        ):
            raise SignInNeeded(f"{where}: {text}") from None
        raise RuntimeFailure(f"{where}: {text}") from None
    except requests.exceptions.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise ConnectionFailure(f"{where}: the token endpoint answered HTTP {status}") from None
    except requests.exceptions.Timeout:
        raise ConnectionFailure(
            f"{where}: no answer within {TIMEOUT:.0f}s", timed_out=True
        ) from None
    except requests.exceptions.RequestException as exc:
        reason = exc.__class__.__name__
        raise ConnectionFailure(f"{where}: cannot reach {provider.token_url} ({reason})") from None
