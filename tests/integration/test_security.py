"""Security (issue 17, item 5) against the real Dovecot and aiosmtpd test bed: header
injection end to end in every language, escaping templates met by `check` and `run`, file
modes, and the CANARY secret.

End to end, every payload is one invitation in Dovecot, in each of the seven languages, sent
by `run --once` to aiosmtpd (its fields rotate: Subject or SUMMARY, organizer CN or Reply-To
name). tests/unit/test_security_render.py puts every payload through the renderer in every
field combination; tests/unit/test_template_sandbox.py tries each escape on the sandbox.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from decliner.core.letters.languages import LANGUAGES
from tests.testbed.dovecot import Account
from tests.testbed.helpers import config_text, load_config
from tests.testbed.injection import (
    CLOSINGS,
    NUL_PAYLOAD,
    PAYLOADS,
    REFUSED,
    VARIANTS,
    Case,
    assert_safe,
    invite_bytes,
    toml_string,
)
from tests.testbed.template_escapes import ESCAPES
from tests.testbed.world import World

pytestmark = pytest.mark.servers


# -- 1. header injection end to end: every payload, every language, real servers -----------


def state_config(world: World, *, account: str = "", extra: str = "", password: str = "") -> Path:
    """Jane's config with the state db alone in `state/` (config.toml, which holds the
    password, stays outside it); `password` replaces the IMAP password."""
    text = config_text(
        world.dovecot,
        world.jane,
        world.tmp,
        smtp_port=world.smtp.plain.port,
        account_extra=account,
        extra=f'[withdrawal]\ngrace = "0"\n{extra}',
    ).replace(str(world.tmp / "state.db"), str(world.tmp / "state" / "decliner.db"))
    if password:
        text = text.replace(world.jane.password, password)
    return load_config(text, world.tmp).source


def e2e_cases(language: str) -> list[Case]:
    shift = LANGUAGES.index(language)
    return [
        Case(index, payload, *VARIANTS[(index + shift) % 4])
        for index, payload in enumerate(PAYLOADS)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_payload_end_to_end_in_every_language(world: World, language: str) -> None:
    """Every payload in one invitation each (Subject or SUMMARY, organizer CN or Reply-To name,
    LOCATION, [[cancel]].reason), one `run --once`: each message aiosmtpd gets has exactly its
    headers, one envelope recipient (Sam) matching To, and the whole letter; even invitations
    in account.language (`language`), odd ones in the next language by [[cancel]].language."""
    following = LANGUAGES[(LANGUAGES.index(language) + 1) % len(LANGUAGES)]
    cases = e2e_cases(language)
    rules = []
    for case in cases:
        raw = invite_bytes(case, world.sam.address, world.jane.address)
        world.dovecot.append(world.jane, "INBOX", raw)
        own = f'language = "{following}"\n' if case.index % 2 else ""
        reason = toml_string(case.payload)
        # scope "interview": one letter per invitation, each payload in its own letter
        rules.append(
            f'[[cancel]]\nuid = "{case.uid}"\nreason = {reason}\nscope = "interview"\n{own}'
        )
    state_config(world, account=f'language = "{language}"', extra="\n".join(rules))
    result = world.cli("run", "--once")
    assert result.exit_code == (1 if REFUSED else 0), result.output
    assert result.output.count("cannot be written") == len(REFUSED)
    records = [m for m in world.smtp.plain.messages if m.mail_from == world.jane.address]
    expected = {c.message_id: c for c in cases if c.payload not in REFUSED}
    assert len(records) == len(expected)
    for record in records:
        parsed = email.message_from_bytes(record.data, policy=email.policy.default)
        case = expected.pop(str(parsed["In-Reply-To"]))
        closing = CLOSINGS[following if case.index % 2 else language]
        to = world.sam.address
        message = assert_safe(record.data, to=to, rcpt=record.rcpt_tos, closing=closing)
        if "attacker" in case.payload:  # the payload did reach the Subject, defused
            assert "attacker" in str(message["Subject"])
    assert not expected
    assert len(world.received(world.sam)) == len(records)  # delivered to Sam, and no one else


# -- bugs the payloads found, fixed ---------------------------------------------------------


def test_no_control_byte_from_a_summary_reaches_the_wire(world: World) -> None:
    """A NUL in the invitation's SUMMARY does not reach aiosmtpd as a raw byte (decline_reply
    copied the SUMMARY into the 7bit REPLY part as it was)."""
    case = Case(0, NUL_PAYLOAD, in_subject=True, robot=False)
    world.dovecot.append(
        world.jane, "INBOX", invite_bytes(case, world.sam.address, world.jane.address)
    )
    state_config(world, extra=f'[[cancel]]\nuid = "{case.uid}"\n')
    assert world.cli("run", "--once").exit_code == 0
    [data] = world.sent_by_jane()
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data)


# -- 2. templates cannot reach Python internals --------------------------------------------


def test_check_reports_each_escape_and_run_sends_nothing(world: World) -> None:
    """`check --offline` fails each escaping [withdrawal].template with its file:line and reason;
    `run --once` then sends nothing for a flagged invite and says why; once the template is
    fixed, the letter goes out from it."""
    template = world.tmp / "mine.j2"
    template.write_text("Hi\n", encoding="utf-8")
    state_config(world, extra=f'template = "{template}"\n')
    for source, refusal in ESCAPES:
        template.write_text(f"Hi {{{{ recipient.name }}}},\n{source}\n", encoding="utf-8")
        result = world.cli("check", "--offline")
        assert result.exit_code == 1, (source, result.output)
        [line] = [x for x in result.output.splitlines() if " templates " in x]
        assert line.startswith("FAIL") and f"{template}:2: " in line, line
        assert refusal in line.replace("\n", " "), line
        assert "Traceback" not in result.output
    template.write_text("Hi\n{{ cycler.__init__.__globals__ }}\n", encoding="utf-8")
    world.invite("sandbox@g")
    result = world.cli("run", "--once")
    assert result.exit_code == 1
    assert f"{template}:2: not allowed" in " ".join(result.output.split())
    assert world.sent_by_jane() == []
    template.write_text("Hi {{ recipient.name }}, I withdraw.\n\nJane\n", encoding="utf-8")
    assert world.cli("run", "--once").exit_code == 0
    [sent] = world.sent_by_jane()
    assert b"Hi Sam, I withdraw." in sent


# -- 3. files are private ------------------------------------------------------------------


def decliner(config: Path, *args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    """`python -m decliner` in a child with every log level on, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "decliner", "--config", str(config), "--debug", "-vvv", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        umask=umask,
    )


def test_state_files_are_private_even_under_umask_0(world: World) -> None:
    """After a full withdrawal flow run with umask 0, the state dir is 0700 and every file in it
    (the db, -wal, -shm, the daemon lock) is 0600; decliner writes no other file."""
    world.invite("modes@g")
    config = state_config(world)
    before = set(world.tmp.iterdir())
    for args in (("run", "--once"), ("invites", "--json"), ("log", "--json"), ("check",)):
        done = decliner(config, *args, umask=0)
        assert done.returncode == 0, done.stdout + done.stderr
    assert len(world.sent_by_jane()) == 1
    state = world.tmp / "state"
    assert set(world.tmp.iterdir()) - before == {state}
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    files = sorted(p.name for p in state.iterdir())
    assert "decliner.db" in files
    assert set(files) <= {"decliner.db", "decliner.db-wal", "decliner.db-shm", "decliner.db.lock"}
    for path in state.iterdir():
        mode = path.lstat().st_mode
        assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o600, (path.name, oct(mode))


# -- 4. the CANARY secret appears nowhere --------------------------------------------------


def secret_forms(account: Account, *others: str) -> list[str]:
    """The passwords and the AUTH PLAIN / LOGIN blobs a protocol trace would carry."""
    forms = ["CANARY", account.password, *others]
    for password in (account.password, *others):
        forms.append(base64.b64encode(f"\0{account.address}\0{password}".encode()).decode())
        forms.append(base64.b64encode(password.encode()).decode())
    return forms


def dump_tables(path: Path) -> str:
    """Every row of every table of the sqlite db at `path`, as text."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert "outbox" in tables
        rows = [repr(row) for table in tables for row in conn.execute(f'SELECT * FROM "{table}"')]
    conn.close()
    return "\n".join(rows)


def test_canary_appears_nowhere(world: World) -> None:
    """A refused IMAP login, a refused SMTP AUTH and a failed certificate check, then a good
    pass: no password (nor its base64 in an AUTH exchange) in any output at -vvv --debug, in any
    file of the state dir, in any row of its db, in `log --json` or `invites --json`."""
    wrong_imap, wrong_smtp = "pw-wrong-imap-CANARY-1", "pw-wrong-smtp-CANARY-2"
    world.invite("canary-a@g")
    done: list[subprocess.CompletedProcess[str]] = []

    def run(config: Path, *args: str) -> int:
        done.append(decliner(config, *args))
        return done[-1].returncode

    config = state_config(world, password=wrong_imap)
    assert run(config, "check") == 1
    assert f"login as {world.jane.address} refused" in done[-1].stdout
    assert run(config, "run", "--once") == 1
    text = config.read_text(encoding="utf-8").replace(wrong_imap, world.jane.password)
    bad_ca = f'ca_file = "{world.dovecot.other_ca_file}"\n'
    tls = text.replace(f"port = {world.dovecot.imap_port}", f"port = {world.dovecot.imaps_port}")
    tls = tls.replace(f"port = {world.smtp.plain.port}", f"port = {world.smtp.tls.port}")
    tls = tls.replace('security = "plain"\n', f'security = "tls"\n{bad_ca}')
    config.write_text(tls, encoding="utf-8")
    assert run(config, "check") == 1
    assert done[-1].stdout.count("certificate verification failed") == 2
    assert run(config, "run", "--once") == 1
    smtp_refused = text.replace("[smtp]\n", f'[smtp]\npassword = "{wrong_smtp}"\n')
    config.write_text(smtp_refused, encoding="utf-8")
    assert run(config, "check") == 1
    [smtp_line] = [x for x in done[-1].stdout.splitlines() if " smtp " in x]
    assert smtp_line.startswith("FAIL") and "refused" in smtp_line
    assert run(config, "run", "--once") == 0  # a refused AUTH is retried later (SPEC 5)
    assert "refused: 535" in done[-1].stderr
    assert world.sent_by_jane() == []
    world.invite("canary-b@g")
    config.write_text(text, encoding="utf-8")
    for args in (("run", "--once"), ("check",), ("log", "--json"), ("invites", "--all", "--json")):
        assert run(config, *args) == 0, done[-1].stderr
    assert world.sent_by_jane()
    assert json.loads(done[-2].stdout) and json.loads(done[-1].stdout)
    forms = secret_forms(world.jane, wrong_imap, wrong_smtp)
    for process in done:
        output = process.stdout + process.stderr
        assert not [f for f in forms if f in output], output
    state = world.tmp / "state"
    for path in state.iterdir():
        data = path.read_bytes()
        assert not [f for f in forms if f.encode() in data], path.name
    table_text = dump_tables(state / "decliner.db")
    assert "refused: 535" in table_text  # the refused AUTH is recorded, without the secret
    assert not [f for f in forms if f in table_text]
    assert not [f for f in forms if f.encode() in b"".join(world.sent_by_jane())]
