"""The dashboard: its pages and the browser tests."""
