"""`python -m expense_api.webhooks`: runs the webhook delivery job until SIGTERM or Ctrl-C.

A stand-in until the shared worker (`expense-api worker`) takes the job into its list; it does
what that worker does with it: `deliver_due(database, clock)` again and again, pausing when
nothing was due.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime

from ..config import load_settings
from ..database import Database
from ..database_url import database_url
from ..services.webhook_delivery import deliver_due

IDLE_SECONDS = 1.0


def main() -> int:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with database_url(settings) as url:
        database = Database(url, settings)
        database.pool.open(wait=True)
        try:
            while not stop.is_set():
                if deliver_due(database, lambda: datetime.now(UTC)) == 0:
                    stop.wait(IDLE_SECONDS)
        finally:
            database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
