"""CPU time spent by groups of processes during a measured interval, read from Linux's /proc.

A benchmark on a 2-core machine is a contest for those cores between the load tool, the service
and PostgreSQL; dividing each one's CPU seconds by the requests served shows who spends what.
Elsewhere than Linux the figures are simply absent.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command name, CPU seconds so far) for every visible process."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is the parent pid; [11] and [12] the process's user and system time, [13]
        # and [14] those of its children that ended (PostgreSQL's backends of closed
        # connections, for the postmaster), in clock ticks.
        ticks = sum(int(value) for value in fields[11:15])
        found[int(entry.name)] = (int(fields[1]), name, ticks / _TICKS)
    return found


def _tree_cpu(processes: dict, root: int) -> float:
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        if pid in processes:
            total += processes[pid][2]
        stack.extend(children.get(pid, []))
    return total


@dataclass(frozen=True)
class CpuSnapshot:
    service: float  # the service's process tree (gunicorn master and workers)
    postgres: float  # the benchmark's PostgreSQL: postmaster, backends, ended backends
    load_tool: float  # this process and its finished children (asyncio client, wrk or pgbench)
    backends: int  # the postmaster's child processes right now
    workers: dict[int, float] = field(default_factory=dict)  # each gunicorn worker's own tree


def postmaster_of(database_url: str) -> int | None:
    """The pid of the postmaster serving `database_url`, when it runs on this machine."""
    import psycopg

    with psycopg.connect(database_url) as conn:  # read /proc while the backend still runs
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        processes = _processes() if Path("/proc/self/stat").exists() else {}
    if backend not in processes:  # a server elsewhere (or in another pid namespace)
        return None
    return processes[backend][0]


def snapshot(service_pid: int, postmaster: int | None) -> CpuSnapshot | None:
    if not Path("/proc/self/stat").exists():
        return None
    processes = _processes()
    own = sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    service = _tree_cpu(processes, service_pid) if service_pid else 0.0
    postgres = _tree_cpu(processes, postmaster) if postmaster else float("nan")
    backends = sum(1 for parent, _, _ in processes.values() if postmaster and parent == postmaster)
    workers = {
        pid: _tree_cpu(processes, pid)
        for pid, (parent, _, _) in processes.items()
        if service_pid and parent == service_pid
    }
    return CpuSnapshot(service, postgres, own, backends, workers)


def wait_for_backends_to_end(
    postmaster: int | None, baseline: CpuSnapshot | None, seconds: float = 10
) -> None:
    """Waits until the postmaster has reaped the backends of a client that just disconnected:
    only then is their CPU time in the postmaster's account of its ended children."""
    if postmaster is None or baseline is None:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        now = snapshot(0, postmaster)
        if now is None or now.backends <= baseline.backends:
            return
        time.sleep(0.05)


def per_request_ms(
    before: CpuSnapshot | None, after: CpuSnapshot | None, requests: int, load_tool: str
) -> str:
    """'service 1.90 + postgres 0.60 + wrk 0.05 ms', or '' without /proc."""
    if before is None or after is None or not requests:
        return ""

    def ms(seconds: float) -> str:
        return f"{seconds * 1000 / requests:.2f}"

    parts = []
    if after.postgres == after.postgres:  # not NaN: the server runs on this machine
        parts.append(f"postgres {ms(after.postgres - before.postgres)}")
    if after.service:
        parts.insert(0, f"service {ms(after.service - before.service)}")
    parts.append(f"{load_tool} {ms(after.load_tool - before.load_tool)}")
    return " + ".join(parts) + " ms"


def worker_split(before: CpuSnapshot | None, after: CpuSnapshot | None) -> str:
    """CPU seconds each gunicorn worker spent in the interval, busiest first, and the share of
    the busiest: '5.6 / 5.4 s (busiest 51%)'; '' without /proc or workers."""
    if before is None or after is None:
        return ""
    used = sorted(
        (after.workers[pid] - before.workers.get(pid, 0.0) for pid in after.workers), reverse=True
    )
    if not used or not sum(used):
        return ""
    seconds = " / ".join(f"{value:.1f}" for value in used)
    return f"{seconds} s (busiest {100 * used[0] / sum(used):.0f}%)"
