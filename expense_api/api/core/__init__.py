"""The HTTP plumbing every resource's view shares: JSON in and out, problems, tokens, the request's
transaction, idempotency, routing, pagination, the OpenAPI document."""
