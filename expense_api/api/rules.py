"""/api/ledgers/<id>/rules: a ledger's ordered rules (which category, payee and tags an imported
row gets) and running one over existing transactions (a v3 route: under the ledger's path only,
no default-ledger alias)."""

from __future__ import annotations

from flask.views import MethodView

from ..services import rules
from .core.blueprint import Blueprint
from .core.ledger_paths import LEDGER_PREFIX
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.rules import (
    RuleApplyResultSchema,
    RuleApplySchema,
    RuleInputSchema,
    RuleListSchema,
    RulePatchSchema,
    RuleSchema,
)

blp = Blueprint(
    "rules",
    __name__,
    url_prefix=f"{LEDGER_PREFIX}/rules",
    description="Rules: the category, payee and tags an imported row gets, first match wins",
)

_NOT_FOUND = "No such rule in this ledger (or no such ledger of yours)"
# The rule's id in the path is `import_rule_id` (a recurring rule's is `rule_id`): the rules an
# import applies, also run over existing transactions.
_READ_ONLY = "A viewer may read the rules, not change them"


@blp.route("")
class Rules(MethodView):
    @authenticated(blp)
    @blp.response(200, RuleListSchema)
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    def get(self):
        """List the ledger's rules in the order they are tried (position 1 first)

        Every member may read them. An imported row gets what the first rule whose every
        condition holds sets (`set`); a row no rule categorizes goes to the ledger's category
        named Uncategorized."""
        return {"items": rules.list_all(get_conn(), actor())}

    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(RuleInputSchema)
    @blp.response(201, RuleSchema)
    @problem_response(blp, 403, _READ_ONLY)
    @problem_response(blp, 404, "No such ledger of yours (you are not a member of it)")
    @problem_response(blp, 409, "The ledger has 500 rules already (`too_many_rules`)")
    def post(self, body):
        """Create a rule (editors and owners)

        `match`: at least one condition, all of which must hold. `payee` and `description`
        each take one of `contains`, `equals` (the whole text, trimmed) or `regex` (RE2
        syntax, at most 200 characters; an invalid one is 422 on `match.payee.regex`), all
        ignoring case; `amountMin` and `amountMax` bound the unsigned amount (inclusive);
        `type` is INCOME or EXPENSE. `set`: at least one of `categoryId` (one of the ledger's
        categories, else 422 on `set.categoryId`), `payee`, `tags`. `position` (default: last)
        puts it there and moves the rules from there on down one."""
        return rules.create(get_conn(), actor(), body)


@blp.route("/<id:import_rule_id>")
class Rule(MethodView):
    @authenticated(blp)
    @blp.response(200, RuleSchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, import_rule_id):
        """Get a rule"""
        return rules.get(get_conn(), actor(), import_rule_id)

    @authenticated(blp)
    @blp.arguments(RulePatchSchema(partial=True))
    @blp.response(200, RuleSchema)
    @problem_response(blp, 403, _READ_ONLY)
    @problem_response(blp, 404, _NOT_FOUND)
    def patch(self, body, import_rule_id):
        """Change a rule: move it, or replace its match or its set (editors and owners)

        A new `position` moves the rules in between one place (positions stay 1..n; past the
        end is the end). `match` and `set` each replace the rule's whole match or set, with
        the rules of a create."""
        return rules.update(get_conn(), actor(), import_rule_id, body)

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 403, _READ_ONLY)
    @problem_response(blp, 404, _NOT_FOUND)
    def delete(self, import_rule_id):
        """Delete a rule (editors and owners): the rules after it move up one"""
        rules.delete(get_conn(), actor(), import_rule_id)


@blp.route("/<id:import_rule_id>/apply")
class Apply(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(RuleApplySchema, location="query")
    @blp.response(200, RuleApplyResultSchema)
    @problem_response(blp, 403, _READ_ONLY)
    @problem_response(blp, 404, _NOT_FOUND)
    def post(self, query, import_rule_id):
        """Run a rule over the ledger's transactions of a period (editors and owners)

        No body. The query takes the transaction list's period (`month` and `year`, or `from`
        and `to`, or a part of one; none: the current month) and `onlyUncategorized` (default
        true: only transactions in the ledger's category named Uncategorized, ignoring case;
        a ledger without one changes nothing). Each transaction the rule matches gets what it
        sets: its category (a split transaction keeps its lines: it gets the payee and tags
        only), its payee, and the rule's tags added to its own. Each change is an ordinary
        change of the transaction (budgets enforced, logged, webhooks sent): one a hard budget
        refuses is left as it was and counted in `refused`."""
        only = query.pop("only_uncategorized")
        return rules.apply(
            get_conn(), actor(), import_rule_id, period_filter=query, only_uncategorized=only
        )
