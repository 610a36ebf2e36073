"""Reports over a period: summary, category breakdown, budget usage, trends."""
