"""The multiprocess metrics directory, prepared before prometheus_client is imported.

prometheus_client chooses where values live (memory, or files in PROMETHEUS_MULTIPROC_DIR) when
it is first imported, and forked children keep that choice. So the gunicorn master calls
`prepare_multiprocess_dir()` from gunicorn_conf.py at import, before anything imports
prometheus_client, and every process it starts (gunicorn workers, the background worker that
`expense-api serve` runs beside them) writes to the same directory; a scrape of any worker then
sums them all. This module must not import prometheus_client at module level.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_made_here: list[str] = []  # temporary directories this process made (removed at its exit)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def prepare_multiprocess_dir(environ: dict | None = None) -> str:
    """PROMETHEUS_MULTIPROC_DIR when set, else a new temporary directory, emptied (a previous
    run's values would otherwise be summed into this one's) and put in the environment that
    every child inherits."""
    environ = os.environ if environ is None else environ
    path = environ.get(MULTIPROC_ENV)
    if not path:
        path = tempfile.mkdtemp(prefix="expense-api-metrics-")
        _made_here.append(path)
    directory = Path(path)
    if directory.exists():
        for entry in directory.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    environ[MULTIPROC_ENV] = str(directory)
    return str(directory)


def mark_process_dead(pid: int) -> None:
    """For a process that has exited (gunicorn's child_exit; whoever supervises the worker):
    its live gauges stop counting."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def remove_temporary_dirs() -> None:
    """At the master's exit: the directories made here go; an operator's is left as it is."""
    while _made_here:
        shutil.rmtree(_made_here.pop(), ignore_errors=True)
