"""The HTTP contract's plumbing: errors, routing, security headers, idempotency, the OpenAPI document, fuzzing."""
