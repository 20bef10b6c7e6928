"""OAuth2 sign-in (SPEC 17): `login`/`logout`, the token store, access tokens on demand.

Built on Authlib's client; imported only when a config uses `oauth2`, so a password
account never loads it.
"""

from __future__ import annotations

from decliner.auth.login import Options, login, logout
from decliner.auth.store import Access, TokenFile, Tokens
from decliner.auth.tokens import access_token, token_file

__all__ = [
    "Access",
    "Options",
    "TokenFile",
    "Tokens",
    "access_token",
    "login",
    "logout",
    "token_file",
]
