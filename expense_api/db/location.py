"""Where the database is: DATABASE_URL, or the embedded server under DATA_DIR started on demand."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..config import Settings
from . import embedded

EMBEDDED_DATABASE = "expense_api"


def start_embedded(settings: Settings):
    """Starts the embedded server; returns (handle, URL). The handle stops it on cleanup()."""
    return embedded.start(settings.data_dir / "postgres", EMBEDDED_DATABASE)


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured URL, or the embedded server's for as long as the block runs."""
    if settings.database_url:
        yield settings.database_url
        return
    server, url = start_embedded(settings)
    try:
        yield url
    finally:
        server.cleanup()
