"""OAuth2 sign-in (SPEC 17): the token store, and access tokens on demand for the ports.

`login.py` is `decliner login` and `logout`; Authlib and requests are imported only when a
token is refreshed or a sign-in runs, so a password account never loads them.
"""

from __future__ import annotations

from decliner.auth.store import Access, TokenFile, Tokens
from decliner.auth.tokens import access_token, token_file

__all__ = ["Access", "TokenFile", "Tokens", "access_token", "token_file"]
