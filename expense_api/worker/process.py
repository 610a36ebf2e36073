"""The worker beside gunicorn: `expense-api serve` starts one worker process from gunicorn's
master (gunicorn_conf.when_ready, once the database is up and migrated) and stops it when
gunicorn exits (on_exit, before the embedded database stops). WORKER=off leaves it out, for
deployments that run `expense-api worker` apart (as many as they like: they share the work)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from ..config import Settings

STOP_SECONDS = 15


def start(settings: Settings) -> subprocess.Popen | None:
    if not settings.worker_enabled:
        return None
    # The environment carries DATABASE_URL (the embedded server's, set by on_starting).
    return subprocess.Popen(
        [sys.executable, "-m", "expense_api.cli", "worker"], env=dict(os.environ)
    )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
