"""HTTP layer: one blueprint per resource. Parse, authenticate, call the domain, shape."""
