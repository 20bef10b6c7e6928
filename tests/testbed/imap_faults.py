"""IMAP faults under the real daemon (issue 17, item 3), shared by the quick tests in
`make test` and the long runs in `make stress`: Dovecot restarted while invitations arrive
and get flagged, and a UIDVALIDITY bump; each invitation is withdrawn exactly once."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.testbed.daemon_harness import Decliner
from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.mailfactory import google_invite
from tests.testbed.smtpd import SmtpServers
from tests.testbed.world import SOON

ORGANIZER = "sam@acme.example"
_UIDVALIDITY = re.compile(rb"^(\d+) V(\d+) ")


@dataclass
class Storm:
    """A daemon on a private Dovecot, and the invitations delivered to it so far."""

    own: Dovecot
    jane: Account
    smtp: SmtpServers
    config: Path
    invitations: dict[str, str] = field(default_factory=dict)  # Message-ID -> iCalendar UID

    def deliver(self, n: int) -> None:
        """Invitation `n`: even ones arrive flagged, odd ones are flagged after arriving."""
        uid = f"storm-{n}@example.com"
        raw, message_id = google_invite(
            organizer=ORGANIZER, organizer_name="Sam", me=self.jane.address, uid=uid, start=SOON
        )
        flagged = ["Decline"] if n % 2 == 0 else []
        imap_uid = self.own.append(self.jane, "INBOX", raw, keywords=flagged)
        if not flagged:
            self.own.set_keyword(self.jane, "INBOX", imap_uid, "Decline")
        self.invitations[message_id] = uid

    def withdrawals(self) -> list[email.message.EmailMessage]:
        """The withdrawals the SMTP server accepted from Jane, parsed."""
        return [
            email.message_from_bytes(m.data, policy=email.policy.default)
            for m in self.smtp.plain.messages
            if m.mail_from == self.jane.address
        ]

    def all_sent(self) -> bool:
        """Whether every invitation delivered so far has been withdrawn."""
        answered = {str(m["In-Reply-To"]) for m in self.withdrawals()}
        return set(self.invitations) <= answered

    def check_exactly_once(self, decliner: Decliner) -> None:
        """One withdrawal per invitation, answering it; one sent copy each; no traceback."""
        withdrawals = self.withdrawals()
        ids = [str(m["Message-ID"]) for m in withdrawals]
        assert len(ids) == len(set(ids)) == len(self.invitations), sorted(ids)
        assert sorted(str(m["In-Reply-To"]) for m in withdrawals) == sorted(self.invitations)
        filed = [
            str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])
            for raw in self.own.fetch_all(self.jane, "Sent")
        ]
        assert sorted(filed) == sorted(ids)  # every copy filed, none twice
        assert "Traceback" not in decliner.output, decliner.output


def storm(tmp_path: Path, own: Dovecot, dovecot: Dovecot, smtp: SmtpServers) -> Storm:
    """Jane on the private Dovecot `own`, with a daemon config: no grace, no follow-up."""
    jane = own.add_account(dovecot.new_account("jane"))  # SMTP logs in against the shared bed
    extra = '\n[withdrawal]\ngrace = "0"\n[followup]\nenabled = false\n'
    text = config_text(
        own,
        jane,
        tmp_path,
        smtp_port=smtp.plain.port,
        extra=extra,
        imap_extra='poll_interval = "10m"\n',
    )
    load_config(text, tmp_path)
    return Storm(own, jane, smtp, tmp_path / "config.toml")


def filed(own: Dovecot, jane: Account) -> int:
    """How many sent copies Jane's Sent folder holds."""
    return len(own.fetch_all(jane, "Sent"))


def restart(own: Dovecot) -> None:
    """Stop Dovecot and start it again (every connection the daemon had is cut)."""
    own.stop()
    own.start()


def bump_uidvalidity(own: Dovecot, jane: Account) -> int:
    """Stop Dovecot, give INBOX a new UIDVALIDITY (same messages, same UIDs), start it; the
    new value."""
    own.stop()
    inbox = own.layout.mail_dir / jane.address / "Maildir"
    uidlist = inbox / "dovecot-uidlist"
    text = uidlist.read_bytes()
    match = _UIDVALIDITY.match(text)
    assert match is not None, text[:80]
    bumped = int(match.group(2)) + 1000
    uidlist.write_bytes(_UIDVALIDITY.sub(rb"\1 V%d " % bumped, text, count=1))
    for index in inbox.glob("dovecot.index*"):
        index.unlink()
    own.start()
    return bumped
