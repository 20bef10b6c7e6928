"""First scan and quiet pass against the wire's limit (issue 16), on a private Dovecot.

A reproducible mailbox (N messages from a seed: 1 % invitations in the corpus's shapes,
decoys with BEGIN:VCALENDAR in plain text, 5 % large attachments) is written straight
into the account's Maildir. Three clients, each its own process, read it cold (Dovecot's
dovecot.index.cache removed before each) through a counting proxy:

- raw: imaplib, `UID FETCH (UID BODYSTRUCTURE)` pipelined 4 in flight, then the calendar
  sections and headers: the practical limit;
- naive: imapclient `BODY.PEEK[]` of everything, parsed with `email` (what scripts do);
- decliner: `decliner run --once`.

All three must find the same invitations (they share decliner's judge of what a calendar
part holds; they differ in what they fetch). Prints wall, CPU, bytes, commands and peak
RSS, and the ratios. `python -m bench.bench_wire [N ...]` (default 10000).
"""

from __future__ import annotations

import imaplib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.testbed.dovecot import Account, Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.proxy import Proxy

ME = "jane.doe@example.com"
ALIASES = ("jdoe@example.org",)
CORPUS = Path(__file__).parent.parent / "tests" / "corpus" / "invites"
IN_FLIGHT = 4
CHUNK = 500


# -- the mailbox ----------------------------------------------------------------------


def invitation_shapes() -> list[bytes]:
    """The corpus messages that are invitations (not rejected, not negatives)."""
    with (CORPUS / "expected.toml").open("rb") as handle:
        cases = tomllib.load(handle)["message"]
    return [
        (CORPUS / c["file"]).read_bytes()
        for c in cases
        if c.get("invite", True) and not c.get("rejected") and c.get("method") == "REQUEST"
    ]


def _plain(n: int, rng: random.Random, *, decoy: bool, attachment: int) -> bytes:
    words = " ".join(
        rng.choice(["team", "update", "review", "lunch", "plan", "notes"]) for _ in range(80)
    )
    body = f"Hello Jane,\r\n\r\n{words}\r\n"
    if decoy:
        body += "Pasted from my calendar:\r\nBEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    headers = (
        f"Received: from mx{n % 7}.example.net by mail.example.com; Mon, 23 Nov 2026 10:00:00 +0000\r\n"
        f"From: Colleague {n} <c{n}@work.example>\r\nTo: Jane Doe <{ME}>\r\n"
        f"Subject: Note {n}\r\nMessage-ID: <note.{n}@work.example>\r\n"
        "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    )
    if not attachment:
        return (headers + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()
    blob = rng.randbytes(attachment).hex().encode()  # stands in for base64: same size class
    lines = b"\r\n".join(blob[i : i + 76] for i in range(0, len(blob), 76))
    return (
        headers.encode()
        + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + body.encode()
        + b"\r\n--b\r\nContent-Type: application/pdf; name=report.pdf\r\n"
        + b"Content-Transfer-Encoding: base64\r\n"
        + b'Content-Disposition: attachment; filename="report.pdf"\r\n\r\n'
        + lines
        + b"\r\n--b--\r\n"
    )


def _unique(shape: bytes, n: int) -> bytes:
    """A corpus invitation made distinct: its UIDs and Message-ID carry `n`."""
    text = re.sub(
        rb"(?m)^(UID:)(.+?)(\r?)$", lambda m: m[1] + m[2] + b"-" + str(n).encode() + m[3], shape
    )
    return re.sub(rb"(?im)^(Message-ID:\s*<)", rb"\1b" + str(n).encode() + b".", text, count=1)


def generate(maildir: Path, size: int, seed: int = 16) -> None:
    """`size` messages into `maildir`/cur, reproducibly, in delivery order."""
    rng = random.Random(seed)
    shapes = invitation_shapes()
    cur = maildir / "cur"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    for n in range(size):
        if n % 100 == 7:
            raw = _unique(shapes[(n // 100) % len(shapes)], n)
        else:
            attachment = rng.randrange(800_000, 1_400_000) if n % 20 == 3 else 0
            raw = _plain(n, rng, decoy=n % 200 == 11, attachment=attachment)
        (cur / f"{1764000000 + n}.M{n}P1.bench:2,S").write_bytes(raw)


def chown_to_mail(path: Path) -> None:
    """Give the tree to the mail user, so Dovecot can read what we generated."""
    shutil.chown(path, "mail", "mail")
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            shutil.chown(Path(root) / name, "mail", "mail")


def cold(maildir: Path) -> None:
    """Dovecot's cache of parsed message data dropped (the index and UIDs stay)."""
    for cache in maildir.glob("dovecot.index.cache*"):
        cache.unlink()


# -- the three clients (each runs as `python -m bench.bench_wire <client> ...`) ------------


def _judge() -> Any:
    from decliner.core.parse.invites import parse_parts

    return parse_parts


def raw_client(port: int, user: str, password: str, *, quiet: bool) -> list[int]:
    """imaplib, BODYSTRUCTURE pipelined IN_FLIGHT deep, then only the calendar sections."""
    from imapclient.response_parser import parse_fetch_response

    from decliner.core.parse import bodystructure
    from decliner.core.parse.mime import decode_part

    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login(user, password)
    imap.select("INBOX", readonly=True)
    _, data = imap.uid("SEARCH", "ALL")
    uids = [int(u) for u in data[0].split()]
    if quiet:
        imap.logout()
        return []
    structures: dict[int, Any] = {}
    chunks = [uids[i : i + CHUNK] for i in range(0, len(uids), CHUNK)]
    for start in range(0, len(chunks), IN_FLIGHT):
        tags = [
            imap._command("UID", "FETCH", f"{c[0]}:{c[-1]}", "(UID BODYSTRUCTURE)")
            for c in chunks[start : start + IN_FLIGHT]
        ]
        for tag in tags:
            imap._command_complete("FETCH", tag)
        _, fetched = imap._untagged_response("OK", [None], "FETCH")
        for uid, item in parse_fetch_response(fetched).items():
            structures[uid] = item[b"BODYSTRUCTURE"]
    found = []
    judge = _judge()
    for uid, structure in structures.items():
        parts = bodystructure.calendar_parts(structure)
        if not parts:
            continue
        sections = " ".join(f"BODY.PEEK[{p.section}]" for p in parts)
        _, data = imap.uid("FETCH", str(uid), f"(BODY.PEEK[HEADER] {sections})")
        item = parse_fetch_response(data)[uid]
        decoded = [
            decode_part(
                item[f"BODY[{p.section}]".encode()], transfer_encoding=p.encoding, charset=p.charset
            )
            for p in parts
        ]
        if judge(item[b"BODY[HEADER]"], decoded, me=(ME, *ALIASES), default_tz=_zone()):
            found.append(uid)
    imap.logout()
    return sorted(found)


def naive_client(port: int, user: str, password: str) -> list[int]:
    """imapclient, every message whole, parsed with `email`."""
    from imapclient import IMAPClient

    from decliner.core.parse.invites import parse_message

    found = []
    with IMAPClient("127.0.0.1", port, ssl=False) as client:
        client.login(user, password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        for start in range(0, len(uids), CHUNK):
            for uid, item in client.fetch(uids[start : start + CHUNK], ["BODY.PEEK[]"]).items():
                if parse_message(item[b"BODY[]"], me=(ME, *ALIASES), default_tz=_zone()):
                    found.append(uid)
    return sorted(found)


def _zone() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Run:
    """One client process's figures."""

    label: str
    wall: float
    cpu: float
    rss_mb: float
    bytes_down: int
    bytes_up: int
    commands: int
    found: list[int]


def measure(label: str, argv: list[str], proxy: Proxy, found: Any = None) -> Run:
    """Run one client to the end and record its time, memory and traffic through the proxy."""
    proxy.reset()
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    out = process.stdout.read() if process.stdout else b""
    err = process.stderr.read() if process.stderr else b""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{label} failed: {err.decode()[-2000:]}")
    uids = found() if found else json.loads(out or b"[]")
    return Run(
        label,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        proxy.bytes_down,
        proxy.bytes_up,
        len(proxy.commands),
        uids,
    )


def decliner_found(state: Path) -> list[int]:
    """The UIDs decliner stored as invitations or cancellations, sorted."""
    with sqlite3.connect(state) as conn:
        rows = conn.execute("SELECT uid FROM messages WHERE kind IN ('invite', 'cancel')")
        return sorted(r[0] for r in rows)


def daemon_peak_rss(config: Path, work: Path) -> float:
    """`decliner run` on a fresh state db of the same folder: its peak RSS (VmHWM) once
    its first pass (the whole first scan) is done."""
    from tests.testbed.daemon_harness import running

    for path in config.parent.glob("state.db*"):
        path.unlink()
    with running(config, work) as (decliner, _listener):
        status = Path(f"/proc/{decliner.process.pid}/status").read_text()
    return next(
        int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")
    )


def report(runs: list[Run]) -> None:
    """Print the runs as a table, one client per row."""
    print(
        f"{'client':<28}{'wall':>9}{'cpu':>9}{'RSS MB':>9}{'bytes in':>14}{'bytes out':>11}{'cmds':>7}{'found':>7}"
    )
    for r in runs:
        print(
            f"{r.label:<28}{r.wall:>8.2f}s{r.cpu:>8.2f}s{r.rss_mb:>9.1f}{r.bytes_down:>14,}"
            f"{r.bytes_up:>11,}{r.commands:>7}{len(r.found):>7}"
        )


def profile_first_scan(out: Path, run_once: list[str], maildir: Path) -> None:
    """One more cold first scan, on a fresh state db, under py-spy (sampling from outside,
    so the measured runs above are untouched): collapsed stacks in `out`. BENCH_PROFILE=dir."""
    spy = shutil.which("py-spy")
    if spy is None:
        print("BENCH_PROFILE set but py-spy is not on PATH; no profile taken")
        return
    state = Path(run_once[run_once.index("--config") + 1]).parent
    for path in state.glob("state.db*"):
        path.unlink()
    cold(maildir)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [spy, "record", "--rate", "250", "--format", "raw", "--output", str(out)]
    subprocess.run([*command, "--", *run_once], check=True, capture_output=True)
    print(f"profile of a cold first scan: {out}")


def bench(size: int) -> dict[str, Any]:
    """Scan a `size`-message INBOX with each client; the runs and the mailbox size."""
    root = Path(tempfile.mkdtemp(prefix="decliner-wire-"))
    root.chmod(0o755)
    dovecot = Dovecot(root / "dovecot")
    dovecot.start()
    try:
        account = dovecot.new_account("bench")
        maildir = dovecot.layout.mail_dir / account.address / "Maildir"
        generate(maildir, size)
        chown_to_mail(dovecot.layout.mail_dir / account.address)
        with dovecot.imap(account) as client:  # Dovecot indexes the new files once
            client.select_folder("INBOX", readonly=True)
        size_mb = sum(p.stat().st_size for p in (maildir / "cur").iterdir()) / 1e6
        me = [sys.executable, "-m", "bench.bench_wire"]
        with Proxy(dovecot.imap_port) as proxy:
            login = [str(proxy.port), account.address, account.password]
            work = root / "decliner"
            work.mkdir()
            text = config_text(dovecot, account, work, me=ME, aliases=ALIASES, imap_port=proxy.port)
            config = load_config(text, work)
            run_once = [
                sys.executable,
                "-m",
                "decliner",
                "--config",
                str(config.source),
                "run",
                "--once",
            ]
            runs = []
            cold(maildir)
            runs.append(measure("raw (pipelined)", [*me, "raw", *login], proxy))
            cold(maildir)
            runs.append(measure("naive (BODY[] + email)", [*me, "naive", *login], proxy))
            cold(maildir)
            runs.append(
                measure(
                    "decliner run --once",
                    run_once,
                    proxy,
                    lambda: decliner_found(work / "state.db"),
                )
            )
            quiet = [
                measure("raw quiet pass", [*me, "raw-quiet", *login], proxy),
                measure(
                    "decliner quiet run --once",
                    run_once,
                    proxy,
                    lambda: decliner_found(work / "state.db"),
                ),
            ]
            daemon_rss = daemon_peak_rss(config.source, root)
            if profiles := os.environ.get("BENCH_PROFILE"):
                profile_first_scan(Path(profiles) / f"first-scan-{size}.txt", run_once, maildir)
        raw, naive, ours = runs
        assert raw.found == naive.found == ours.found, "the clients disagree on the invitations"
        print(
            f"\n{size:,} messages, {size_mb:,.0f} MB, {len(raw.found)} invitations (all three agree)"
        )
        report(runs + quiet)
        print(
            f"first scan: decliner = {ours.wall / raw.wall:.2f}x raw wall, {naive.wall / ours.wall:.1f}x faster"
            f" than naive, {100 * ours.bytes_down / naive.bytes_down:.2f} % of naive's bytes"
        )
        print(
            f"the limit: raw is {naive.wall / raw.wall:.1f}x faster than naive on this machine,"
            f" so decliner reaches {raw.wall / ours.wall:.0%} of the best ratio any client gets"
        )
        print(f"quiet pass: decliner = {quiet[1].wall / quiet[0].wall:.2f}x the raw quiet pass")
        print(f"the daemon after its first pass over this folder: peak RSS {daemon_rss:.1f} MB")
        return {"size": size, "mb": size_mb, "runs": [r.__dict__ for r in runs + quiet]}
    finally:
        dovecot.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """Be one client for bench() (argv: raw, raw-quiet or naive), else benchmark each size given."""
    if len(sys.argv) > 1 and sys.argv[1] in {"raw", "raw-quiet", "naive"}:
        client, port, user, password = sys.argv[1:5]
        if client == "naive":
            print(json.dumps(naive_client(int(port), user, password)))
        else:
            print(json.dumps(raw_client(int(port), user, password, quiet=client == "raw-quiet")))
        return
    for size in [int(a) for a in sys.argv[1:]] or [10_000]:
        bench(size)


_ = Account

if __name__ == "__main__":
    main()
