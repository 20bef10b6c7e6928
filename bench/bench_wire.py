"""First scan and quiet pass against the wire's limit (issues 16, 28), on a private Dovecot.

A reproducible mailbox (N messages from a seed: 1 % invitations in the corpus's shapes,
decoys with BEGIN:VCALENDAR in plain text, 5 % large attachments) is written straight
into the account's Maildir. Each client (`bench/wire_clients.py`, or decliner) is its own
process and reads it cold (Dovecot's dovecot.index.cache removed before each) through a
counting proxy (the page cache warm with every message file for each of them):

- raw: imaplib, `FETCH (UID BODYSTRUCTURE)` by sequence ranges pipelined 4 in flight,
  then only the calendar messages' header fields and calendar sections: the practical limit;
- naive: imapclient `BODY.PEEK[]` of everything, parsed with `email` (what scripts do);
- decliner: `decliner run --once`;
- raw quiet pass: LOGIN, EXAMINE (UIDNEXT), LOGOUT; decliner's quiet `run --once`.

All must find the same invitations (they share decliner's judge of what a calendar part
holds; they differ in what they fetch). Prints wall, CPU (user + system of the process),
bytes, commands and peak RSS, and the ratios. `python -m bench.bench_wire [N ...]`
(default 10000). BENCH_MAILBOXES=dir keeps each generated mailbox (with Dovecot's index)
in dir/N and reuses it next time (the 100k one takes minutes to write); BENCH_NAIVE=0
leaves the naive client out (it takes minutes at 100k).
"""

from __future__ import annotations

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

from tests.testbed.dovecot import Dovecot
from tests.testbed.helpers import config_text, load_config
from tests.testbed.proxy import Proxy

ME = "jane.doe@example.com"
ALIASES = ("jdoe@example.org",)
CORPUS = Path(__file__).parent.parent / "tests" / "corpus" / "invites"


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
    """Dovecot's cache of parsed message data dropped (the index and UIDs stay), and every
    message file read once, so each client meets the same page cache: without this the
    first client of a run read 11 GB from disk and the next ones from memory (53 s against
    30 s at 100k, whichever client went first)."""
    for cache in maildir.glob("dovecot.index.cache*"):
        cache.unlink()
    for path in (maildir / "cur").iterdir():
        with path.open("rb") as handle:
            while handle.read(1 << 20):
                pass


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
    # A child's ru_maxrss starts from its parent's at the fork (this bench, ~60 MB): GNU
    # time (Debian's `time`), itself small, forks the client and reports its own peak.
    gnu_time = Path("/usr/bin/time").exists()
    with tempfile.NamedTemporaryFile("r") as peak:
        timed = ["/usr/bin/time", "-f", "%M", "-o", peak.name, *argv] if gnu_time else argv
        start = time.perf_counter()
        process = subprocess.Popen(timed, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)  # with the client's usage: time reaps it
        wall = time.perf_counter() - start
        rss_kb = int(peak.read().split()[-1]) if gnu_time else usage.ru_maxrss
    out = process.stdout.read() if process.stdout else b""
    err = process.stderr.read() if process.stderr else b""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{label} failed: {err.decode()[-2000:]}")
    uids = found() if found else json.loads(out or b"[]")
    return Run(
        label,
        wall,
        usage.ru_utime + usage.ru_stime,
        rss_kb / 1024,
        proxy.bytes_down,
        proxy.bytes_up,
        len(proxy.commands),
        uids,
    )


QUIET_ROUNDS = 5


def quiet_passes(raw: list[str], ours: list[str], proxy: Proxy, found: Any) -> list[Run]:
    """The raw and decliner's quiet passes, each the median of QUIET_ROUNDS taken in turn,
    after one unmeasured pass: the first login after a scan pays Dovecot's tidying of the
    index and cache it just wrote (0.3 s at 10k, to whichever client came first)."""
    measure("settle", raw, proxy)
    rounds = [
        (measure("raw", raw, proxy), measure("ours", ours, proxy, found))
        for _ in range(QUIET_ROUNDS)
    ]
    medians = []
    for index, label in ((0, "raw quiet"), (1, "decliner quiet")):
        runs = sorted((r[index] for r in rounds), key=lambda run: run.wall)
        middle = runs[len(runs) // 2]
        medians.append(Run(**{**middle.__dict__, "label": f"{label} (median of {len(runs)})"}))
    return medians


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


def summarise(
    size: int, size_mb: float, runs: list[Run], quiet: list[Run], daemon_rss: float
) -> None:
    """Print the table and the same-run ratios; the clients must agree on the invitations."""
    raw, ours = runs[0], runs[-1]
    assert all(r.found == raw.found for r in runs), "the clients disagree on the invitations"
    print(f"\n{size:,} messages, {size_mb:,.0f} MB, {len(raw.found)} invitations (all agree)")
    report(runs + quiet)
    print(
        f"first scan: decliner = {ours.wall / raw.wall:.2f}x raw wall,"
        f" {ours.cpu / raw.cpu:.2f}x raw CPU, {ours.bytes_down / raw.bytes_down:.2f}x raw bytes"
    )
    if len(runs) == 3:
        naive = runs[1]
        print(
            f"naive: {naive.wall / ours.wall:.1f}x decliner's wall, raw is"
            f" {naive.wall / raw.wall:.1f}x faster than naive on this machine;"
            f" decliner reads {100 * ours.bytes_down / naive.bytes_down:.2f} % of naive's bytes"
        )
    print(
        f"quiet pass: decliner = {quiet[1].wall / quiet[0].wall:.2f}x the raw quiet pass wall,"
        f" {quiet[1].cpu / quiet[0].cpu:.2f}x its CPU"
    )
    print(f"the daemon after its first pass over this folder: peak RSS {daemon_rss:.1f} MB")


def mailbox(maildir: Path, size: int) -> Path | None:
    """Fill `maildir` with the `size`-message mailbox: generated, or moved in from
    BENCH_MAILBOXES (same file system: a rename); where to move it back to, if kept."""
    keep = os.environ.get("BENCH_MAILBOXES")
    kept = Path(keep) / str(size) if keep else None
    if kept is not None and (kept / "complete").exists():
        shutil.rmtree(maildir, ignore_errors=True)
        (kept / "Maildir").rename(maildir)
        return kept
    generate(maildir, size)
    if kept is not None:
        kept.mkdir(parents=True, exist_ok=True)
    return kept


def bench(size: int) -> dict[str, Any]:
    """Scan a `size`-message INBOX with each client; the runs and the mailbox size."""
    root = Path(tempfile.mkdtemp(prefix="decliner-wire-"))
    root.chmod(0o755)
    dovecot = Dovecot(root / "dovecot")
    dovecot.start()
    account = dovecot.new_account("bench")
    maildir = dovecot.layout.mail_dir / account.address / "Maildir"
    maildir.parent.mkdir(parents=True, exist_ok=True)
    kept = mailbox(maildir, size)
    try:
        chown_to_mail(dovecot.layout.mail_dir / account.address)
        with dovecot.imap(account) as client:  # Dovecot indexes the new files once
            client.select_folder("INBOX", readonly=True)
        size_mb = sum(p.stat().st_size for p in (maildir / "cur").iterdir()) / 1e6
        me = [sys.executable, "-m", "bench.wire_clients"]
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
            if os.environ.get("BENCH_NAIVE", "1") != "0":
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
            quiet = quiet_passes(
                [*me, "raw-quiet", *login],
                run_once,
                proxy,
                lambda: decliner_found(work / "state.db"),
            )
            daemon_rss = daemon_peak_rss(config.source, root)
            if profiles := os.environ.get("BENCH_PROFILE"):
                profile_first_scan(Path(profiles) / f"first-scan-{size}.txt", run_once, maildir)
        summarise(size, size_mb, runs, quiet, daemon_rss)
        return {"size": size, "mb": size_mb, "runs": [r.__dict__ for r in runs + quiet]}
    finally:
        dovecot.stop()
        if kept is not None:
            shutil.rmtree(kept / "Maildir", ignore_errors=True)
            maildir.rename(kept / "Maildir")
            (kept / "complete").touch()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """Benchmark each size given (default 10,000)."""
    for size in [int(a) for a in sys.argv[1:]] or [10_000]:
        bench(size)


if __name__ == "__main__":
    main()
