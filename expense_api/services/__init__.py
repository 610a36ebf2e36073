"""The rules, one module per resource: plain Python, a connection and an acting user in, no
HTTP. Every door (the REST API today; GraphQL, a worker and the CLI next) calls these."""
