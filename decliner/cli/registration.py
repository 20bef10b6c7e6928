"""The `[oauth2.google]` and `[oauth2.microsoft]` tables `decliner init` writes, with the steps
to register the client as comments (README "Sign in with Google or Microsoft" has them too).

Data only. The client id is a placeholder marked TODO, so `check` lists it until the user
has registered a client and put its id in.
"""

from __future__ import annotations

GOOGLE = """\
# Sign in with Google: register your own "desktop app" client once (free, about 5 minutes).
#  1. https://console.cloud.google.com/ > create a project (any name, e.g. "decliner").
#  2. Google Auth Platform > Branding: app name and your address; Audience: External,
#     and add your own address under Test users.
#  3. Data Access > Add or remove scopes: https://mail.google.com/ (IMAP and SMTP), and
#     https://www.googleapis.com/auth/calendar if you use [calendar] (then also enable
#     the CalDAV API under APIs & Services > Library).
#  4. Clients > Create client > Application type "Desktop app"; copy its id and secret here.
#  5. An app left in "Testing" is signed out after 7 days: Audience > Publish app keeps
#     you signed in (Google then warns the app is unverified; it is yours: continue).
#  Then: decliner login   (on a server without a browser: README, "--no-browser")
[oauth2.google]
client_id = "YOUR-ID.apps.googleusercontent.com"  # TODO: the Desktop app client's id (steps above)
client_secret = "YOUR-SECRET"       # TODO: its secret (a desktop client's secret is not confidential)
"""

MICROSOFT = """\
# Sign in with Microsoft: register your own app once (free, about 5 minutes).
#  1. https://entra.microsoft.com/ > App registrations > New registration: any name;
#     Supported account types: "personal Microsoft accounts" (Outlook.com) or "any
#     organizational directory and personal accounts"; Redirect URI: platform "Public
#     client/native (mobile & desktop)", http://localhost
#  2. Authentication: "Allow public client flows" = Yes (for `decliner login --device`).
#  3. API permissions > Add > APIs my organization uses > Office 365 Exchange Online >
#     Delegated: IMAP.AccessAsUser.All and SMTP.Send (a work account's admin may have to
#     grant consent; Microsoft 365 also needs SMTP AUTH enabled for the mailbox).
#  4. Copy the Application (client) ID here.
#  Then: decliner login   (without a browser: decliner login --device)
[oauth2.microsoft]
client_id = "00000000-0000-0000-0000-000000000000"  # TODO: the Application (client) ID (steps above)
tenant = "common"                   # "consumers" (Outlook.com only), "organizations" or a tenant id
"""

TABLES = {"google": GOOGLE, "microsoft": MICROSOFT}
