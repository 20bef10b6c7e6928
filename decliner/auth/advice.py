"""Provider error codes in words for people: what went wrong and what to do.

Codes are the RFC 6749 ones, Google's (redirect_uri_mismatch, disabled_client,
deleted_client, admin_policy_enforced, org_internal) and Microsoft's AADSTS numbers,
which Microsoft puts at the start of `error_description`.
"""

from __future__ import annotations

import re

SIGN_IN_AGAIN = "sign in again: decliner login"
GOOGLE_TESTING_DAYS = 7

_AADSTS = re.compile(r"AADSTS(\d+)")
_MICROSOFT = {
    "50011": "the redirect URI is not registered: add http://localhost under Mobile and"
    " desktop applications in the app registration's Authentication page",
    "65001": "an administrator's consent is needed: ask your Microsoft 365 admin to grant"
    " consent for the app (Enterprise applications > Permissions), then sign in again",
    "90094": "an administrator's consent is needed: ask your Microsoft 365 admin to grant"
    " consent for the app, then sign in again",
    "700016": "the client id is unknown to this tenant: check [oauth2.microsoft].client_id"
    ' and tenant (a personal account needs "common" or "consumers")',
    "7000112": "the app is disabled in this tenant: ask your administrator to enable it",
    "700082": f"the sign-in expired after a long time unused; {SIGN_IN_AGAIN}",
    "50173": f"the sign-in was ended (password changed or sessions revoked); {SIGN_IN_AGAIN}",
    "7000218": "the app registration is not a public client: enable 'Allow public client"
    " flows' in its Authentication page",
}
_CODES = {
    "redirect_uri_mismatch": "the redirect URI is not registered: create the client as a"
    ' "Desktop app" (Google) or add http://localhost as a redirect URI',
    "disabled_client": "the OAuth client is disabled: enable it again in the provider's"
    " console, or register a new one and put its id in the config",
    "deleted_client": "the OAuth client was deleted: register a new one and put its id in"
    " the config",
    "invalid_client": "the provider does not accept this client: check client_id and"
    " client_secret (the client may have been deleted or disabled)",
    "unauthorized_client": "this client may not use this grant: allow it in the provider's"
    " console (the device grant must be enabled for --device)",
    "admin_policy_enforced": "your organisation's administrator does not allow this app:"
    " ask them to allow it",
    "org_internal": "the app is limited to its own organisation's users: mark it External in"
    " the OAuth consent screen",
    "access_denied": "access was denied on the consent page; run decliner login again and"
    " allow access",
    "invalid_scope": "the provider refused the scopes asked for: check [oauth2.*].scopes, or"
    " that the API is enabled for the client",
    "expired_token": "the code expired before it was entered; run decliner login again",
}


def explain(error: str, description: str, *, provider: str = "", days_signed_in: float = 0) -> str:
    """One line saying what a provider's error means and what to do about it."""
    found = _AADSTS.search(description or "")
    if found and found[1] in _MICROSOFT:
        return _MICROSOFT[found[1]]
    if error == "invalid_grant":
        if provider == "google" and days_signed_in >= GOOGLE_TESTING_DAYS - 0.5:
            return (
                "Google ended the sign-in after 7 days, as it does for apps in Testing"
                " status: publish the app (OAuth consent screen > Publish app), then"
                f" {SIGN_IN_AGAIN}"
            )
        return f"the provider refused the stored sign-in (expired, revoked or consent withdrawn); {SIGN_IN_AGAIN}"
    if error in _CODES:
        return _CODES[error]
    shown = " ".join((description or "").split())[:200]
    return f"the provider answered {error}" + (f": {shown}" if shown else "")
