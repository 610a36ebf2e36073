"""Every resource route again under /api/ledgers/<id:ledger_id>/..., acting in that ledger.

The same blueprints, views, schemas and documentation as the v1 routes, registered a second time
with the ledger in their URL prefix: `/api/categories` is also
`/api/ledgers/<id:ledger_id>/categories`, `/api/summary` also `/api/ledgers/<id:ledger_id>/summary`.
`common.authenticated` takes `ledger_id` out of the view's arguments and resolves the caller's
membership there (404 for a non-member) before the body is parsed, so money follows that
ledger's currency; the views ask `common.actor()` who acts, whichever path they were called by.
"""

from __future__ import annotations

from .views import LEDGER_ARG

V1_PREFIX = "/api"
LEDGER_PREFIX = f"/api/ledgers/<id:{LEDGER_ARG}>"
NAME_PREFIX = "ledger_"


def register_ledger_paths(api, modules) -> None:
    """Registers each module's blueprint a second time, under the ledger's prefix."""
    for module in modules:
        blp = module.blp
        assert blp.url_prefix.startswith(V1_PREFIX), blp.url_prefix
        api.register_blueprint(
            blp,
            url_prefix=LEDGER_PREFIX + blp.url_prefix.removeprefix(V1_PREFIX),
            name=NAME_PREFIX + blp.name,
        )
