"""The domain's vocabulary: exact money, calendar periods and the errors a rule raises."""
