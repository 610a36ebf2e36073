"""Ledgers, the tenant: members, roles, invitations, isolation between tenants."""
