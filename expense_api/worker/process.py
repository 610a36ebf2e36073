"""The worker beside gunicorn: `expense-api serve` starts one worker process from gunicorn's
master (gunicorn_conf.when_ready, once the database is up and migrated), starts it again when it
dies, and stops it when gunicorn exits (on_exit, before the embedded database stops). WORKER=off
leaves it out, for deployments that run `expense-api worker` apart (as many as they like: they
share the work).

Supervision is a daemon thread in the master (`Supervisor`) that looks at the worker once a
second. It watches the process through a pidfd, not its pid: gunicorn's arbiter reaps every child
on SIGCHLD (`reap_workers` calls `os.waitpid(-1)` and logs a pid it does not know at debug level),
so the worker may already be reaped, its exit status gone and its pid free for a new gunicorn
worker, when the thread looks. A pidfd names that one process: it reports the exit whoever reaps
it, and a reused pid is never signalled or waited for. When the thread reaps the worker first,
the exit status is logged; when the arbiter did, the log says it is unknown. Where there are no
pidfds (macOS, Linux before 5.3), the pid is watched through `Popen.poll()` instead, with the
reuse risk a pid has.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence

from ..config import Settings

STOP_SECONDS = 15
POLL_SECONDS = 1.0
COMMAND = (sys.executable, "-m", "expense_api.cli", "worker")


class Backoff:
    """How long to wait before starting the worker again: `first` seconds after a death, doubling
    at each death that follows up to `most`; back to `first` once a worker has lived `healthy`
    seconds. Pure: the caller says how long the dead worker lived."""

    def __init__(self, first: float = 1.0, most: float = 60.0, healthy: float = 60.0):
        self.first, self.most, self.healthy = first, most, healthy
        self._next = first

    def after_exit(self, lived_seconds: float) -> float:
        if lived_seconds >= self.healthy:
            self._next = self.first
        delay = self._next
        self._next = min(self._next * 2, self.most)
        return delay


class WorkerProcess:
    """A started worker and a pidfd on it (see the module's docstring)."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.pid = popen.pid
        self.started = time.monotonic()
        self.how: str | None = None  # once it has exited: how, for the log
        self._pidfd: int | None = None
        self._by_pid = not hasattr(os, "pidfd_open")
        if self._by_pid:
            return
        try:
            self._pidfd = os.pidfd_open(popen.pid)
        except OSError as error:  # dead and reaped already, or no pidfds in this kernel
            if not isinstance(error, ProcessLookupError):
                self._by_pid = True
                return
            self._finish(None)

    def lived(self) -> float:
        return time.monotonic() - self.started

    def exited(self) -> bool:
        """Whether the process has exited; reaps it if nobody has yet."""
        if self.how is not None:
            return True
        if self._by_pid:
            returncode = self.popen.poll()  # 0 when the arbiter reaped it (ECHILD)
            if returncode is None:
                return False
            self.how = (
                f"exit code {returncode}"
                if returncode >= 0
                else (f"killed by {_signal_name(-returncode)}")
            )
            return True
        try:
            result = os.waitid(os.P_PIDFD, self._pidfd, os.WEXITED | os.WNOHANG)
        except ChildProcessError:  # reaped by gunicorn's arbiter: the status went with it
            result = None
            self._finish(None)
            return True
        if result is None:
            return False
        self._finish(result)
        return True

    def _finish(self, result) -> None:
        if result is None:
            self.how = "exit status unknown: gunicorn's arbiter reaped it"
            returncode = 0  # what subprocess itself records when the status is gone (ECHILD)
        elif result.si_code == os.CLD_EXITED:
            self.how = f"exit code {result.si_status}"
            returncode = result.si_status
        else:
            self.how = f"killed by {_signal_name(result.si_status)}"
            returncode = -result.si_status
        # Popen must not wait for this pid itself later (it may be another process's by then).
        self.popen.returncode = returncode
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """SIGTERM, up to `timeout` seconds for the item in hand, then SIGKILL."""
        if self.exited():
            return
        if self._by_pid:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
            self.exited()
            return
        try:
            signal.pidfd_send_signal(self._pidfd, signal.SIGTERM)
            if not self._wait(timeout):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                self._wait(None)
        except ProcessLookupError:  # it exited meanwhile
            self.exited()

    def _wait(self, timeout: float | None) -> bool:
        # A pidfd is readable once its process has exited.
        select.select([self._pidfd], [], [], timeout)
        return self.exited()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def start(settings: Settings, command: Sequence[str] = COMMAND) -> WorkerProcess | None:
    if not settings.worker_enabled:
        return None
    # The environment carries DATABASE_URL (the embedded server's, set by on_starting).
    popen = subprocess.Popen(list(command), env=dict(os.environ))  # noqa: S603 - ours, no shell
    return WorkerProcess(popen)


def stop(process: WorkerProcess | None) -> None:
    if process is not None:
        process.stop()


class Supervisor:
    """Starts the worker and, from a daemon thread, starts it again whenever it exits while
    `stop()` has not been called, after `backoff`'s delay. `log` is gunicorn's logger (or any
    with info, error and exception); `on_dead(pid)` runs for each worker that has exited (the
    last one too, at stop), `on_restart()` for each worker started again."""

    def __init__(
        self,
        settings: Settings,
        log,
        *,
        on_dead: Callable[[int], None] = lambda pid: None,
        on_restart: Callable[[], None] = lambda: None,
        backoff: Backoff | None = None,
        poll_seconds: float = POLL_SECONDS,
        command: Sequence[str] = COMMAND,
    ):
        self.settings, self.log = settings, log
        self.on_dead, self.on_restart = on_dead, on_restart
        self.backoff = backoff or Backoff()
        self.poll_seconds = poll_seconds
        self.command = tuple(command)
        self.current: WorkerProcess | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # held while starting one; stop() waits for it
        self._thread: threading.Thread | None = None

    def start(self) -> WorkerProcess | None:
        self.current = start(self.settings, self.command)
        if self.current is not None:
            self._thread = threading.Thread(
                target=self._watch, name="worker-supervisor", daemon=True
            )
            self._thread.start()
        return self.current

    def stop(self) -> None:
        """No start after this returns; the current worker is stopped (SIGTERM, wait, kill)."""
        self._stopping.set()
        with self._lock:  # a start under way finishes first; none begins after
            current = self.current
        if self._thread is not None:
            self._thread.join(timeout=self.poll_seconds + 5)
        if current is not None:
            current.stop()
            if current.pid:
                self.on_dead(current.pid)

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            try:
                self._check()
            except Exception:  # the thread must outlive any one failure
                self.log.exception("background worker supervision failed; trying again")

    def _check(self) -> None:
        with self._lock:
            dead = self.current
            if self._stopping.is_set() or dead is None or not dead.exited():
                return
        delay = self.backoff.after_exit(dead.lived())
        self.log.error(
            "background worker (pid %s) exited (%s); starting a new one in %g s",
            dead.pid,
            dead.how,
            delay,
        )
        if dead.pid:
            self.on_dead(dead.pid)
        if self._stopping.wait(delay):
            return
        with self._lock:
            if self._stopping.is_set():
                return
            try:
                self.current = start(self.settings, self.command)
            except OSError:
                # Could not even fork (EAGAIN, ENOMEM): counts as a worker that died at once.
                self.current = _Failed()
                self.log.exception("background worker could not be started")
                return
            self.restarts += 1
        self.on_restart()
        self.log.info("background worker restarted (pid %s)", self.current.pid)


class _Failed:
    """Stands for a worker that could not be started, so the next check backs off again."""

    pid = 0
    how = "not started"

    def exited(self) -> bool:
        return True

    def lived(self) -> float:
        return 0.0

    def stop(self) -> None:
        pass
