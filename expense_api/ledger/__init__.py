"""The ledger: recording, changing and deleting transactions under the budget rules."""
