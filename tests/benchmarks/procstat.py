"""CPU seconds of the processes a benchmark started, from Linux's /proc (nothing elsewhere)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK")  # /proc counts CPU time in these


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces)."""
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):  # gone meanwhile, or no /proc
        return None


def _pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()] if PROC.is_dir() else []


def children(parent: int | None = None) -> list[int]:
    """The live processes whose parent is `parent` (default: this process)."""
    parent = os.getpid() if parent is None else parent
    return [pid for pid in _pids() if (fields := _stat(pid)) and int(fields[1]) == parent]


def running(text: str) -> list[int]:
    """The live processes whose command line contains `text`."""
    found = []
    for pid in _pids():
        try:
            if text.encode() in (PROC / str(pid) / "cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds the processes have used so far (ended ones count 0)."""
    total = 0
    for pid in pids:
        if fields := _stat(pid):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK
