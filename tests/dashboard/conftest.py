"""The dashboard tests' shared fixture: Debian's chromium (tests/dashboard/browsing.py)."""

from tests.dashboard.browsing import browser  # noqa: F401 - a fixture, found here by pytest
