"""Analytics reports, their cache and the indexes they need."""
