"""Process bookkeeping via /proc: find a master's children and make sure they are gone."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    """A process identified by pid and start time, so a reused pid is not mistaken for it."""

    pid: int
    start_time: int


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm (field 2) may contain spaces and parentheses: split after the last ')'.
    return [str(pid), "comm", *raw[raw.rindex(")") + 2 :].split()]


def proc_of(pid: int) -> Proc | None:
    """The process `pid` as a Proc, or None when it does not exist."""
    fields = _stat_fields(pid)
    return Proc(pid, int(fields[21])) if fields else None


def is_alive(proc: Proc) -> bool:
    """True while the process runs; zombies and reused pids count as gone."""
    fields = _stat_fields(proc.pid)
    return fields is not None and fields[2] not in "ZX" and int(fields[21]) == proc.start_time


def children_of(pid: int) -> list[Proc]:
    """Direct children of `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is not None and int(fields[3]) == pid:
            found.append(Proc(int(entry.name), int(fields[21])))
    return found


def wait_gone(procs: list[Proc], timeout: float) -> list[Proc]:
    """Wait until all `procs` are gone; return those still alive after `timeout`."""
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if is_alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if is_alive(p)]
    return alive


def kill(procs: list[Proc], sig: signal.Signals) -> None:
    """Send `sig` to each live process in `procs`."""
    for proc in procs:
        if is_alive(proc):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
