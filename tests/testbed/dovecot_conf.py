"""Renders the private Dovecot's configuration files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """Where everything of one private Dovecot lives, and on which ports it listens."""

    root: Path
    imap_port: int
    imaps_port: int
    lmtp_port: int
    cert_file: Path
    key_file: Path
    introspection_url: str | None
    extra: str = ""  # appended to dovecot.conf, e.g. an imap_capability without IDLE

    @property
    def config(self) -> Path:
        """The dovecot.conf passed with -c."""
        return self.root / "etc" / "dovecot.conf"

    @property
    def passwd_dir(self) -> Path:
        """One passwd-file per user, so a new user is never hidden by Dovecot's re-read delay."""
        return self.root / "etc" / "passwd.d"

    @property
    def oauth2_file(self) -> Path:
        """The oauth2 passdb args file."""
        return self.root / "etc" / "dovecot-oauth2.conf.ext"

    @property
    def base_dir(self) -> Path:
        """Runtime sockets and master.pid."""
        return self.root / "run"

    @property
    def state_dir(self) -> Path:
        """Dovecot's state_dir."""
        return self.root / "state"

    @property
    def log_path(self) -> Path:
        """Error log."""
        return self.root / "log" / "dovecot.log"

    @property
    def info_log_path(self) -> Path:
        """Info log (logins, deliveries)."""
        return self.root / "log" / "info.log"

    @property
    def mail_dir(self) -> Path:
        """Parent of all homes; owned by the mail user."""
        return self.root / "mail"


def render_oauth2(introspection_url: str) -> str:
    """The oauth2 passdb args file: POST introspection against the test token server."""
    return f"""\
introspection_url = {introspection_url}
introspection_mode = post
force_introspection = yes
username_attribute = email
active_attribute = active
active_value = true
"""


def render_config(layout: Layout) -> str:
    """dovecot.conf for one private instance (no include of the system config)."""
    oauth = ""
    mechanisms = "plain login"
    if layout.introspection_url:
        mechanisms += " xoauth2 oauthbearer"
        # First, and limited to the token mechanisms; PLAIN/LOGIN and LMTP's user lookups
        # go to the passwd-file only.
        oauth = f"""
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {layout.oauth2_file}
}}"""
    return f"""\
base_dir = {layout.base_dir}
state_dir = {layout.state_dir}
log_path = {layout.log_path}
info_log_path = {layout.info_log_path}
instance_name = decliner-testbed-{layout.imap_port}

protocols = imap lmtp
listen = 127.0.0.1
shutdown_clients = yes
first_valid_uid = 1
first_valid_gid = 1
mail_uid = mail
mail_gid = mail
mail_location = maildir:~/Maildir
mail_max_userip_connections = 200

ssl = yes
ssl_cert = <{layout.cert_file}
ssl_key = <{layout.key_file}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_verbose = yes
# Tests log in wrongly on purpose: no 2 s failure delay after a failed login.
auth_failure_delay = 0
{oauth}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {layout.passwd_dir}/%u
}}
userdb {{
  driver = static
  args = uid=mail gid=mail home={layout.mail_dir}/%u
}}

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Decline {{
    auto = subscribe
  }}
  mailbox Archive {{
    special_use = \\Archive
    auto = subscribe
  }}
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {layout.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {layout.imaps_port}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {layout.lmtp_port}
  }}
}}
# auth's per-IP penalty (2, 4, 8.. s before every login after a failure) would slow every
# later test: with anvil's penalty socket unreachable, auth disables the penalty.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@example.com
}}
{layout.extra}
"""
