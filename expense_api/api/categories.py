"""/api/categories: create, list, get, rename, delete."""

from __future__ import annotations

from flask.views import MethodView

from ..services import categories
from .core.blueprint import Blueprint
from .core.request_transaction import get_conn
from .core.views import actor, authenticated, idempotent, problem_response
from .schemas.categories import CategoryInputSchema, CategoryListSchema, CategorySchema

blp = Blueprint("categories", __name__, url_prefix="/api/categories", description="Categories")

_NOT_FOUND = "No such category of yours"


@blp.route("")
class Categories(MethodView):
    @authenticated(blp)
    @idempotent(blp)
    @blp.arguments(CategoryInputSchema)
    @blp.response(201, CategorySchema)
    @problem_response(blp, 409, "Name taken: `category_exists`")
    def post(self, body):
        """Create a category"""
        return categories.create(get_conn(), actor(), name=body["name"])

    @authenticated(blp)
    @blp.response(200, CategoryListSchema)
    def get(self):
        """List your categories, by name"""
        return {"items": categories.list_all(get_conn(), actor())}


@blp.route("/<id:category_id>")
class Category(MethodView):
    @authenticated(blp)
    @blp.response(200, CategorySchema)
    @problem_response(blp, 404, _NOT_FOUND)
    def get(self, category_id):
        """Get a category"""
        return categories.get(get_conn(), actor(), category_id)

    @authenticated(blp)
    @blp.arguments(CategoryInputSchema)
    @blp.response(200, CategorySchema)
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, "Name taken: `category_exists`")
    def patch(self, body, category_id):
        """Rename a category"""
        return categories.rename(get_conn(), actor(), category_id, name=body["name"])

    @authenticated(blp)
    @blp.response(204)
    @problem_response(blp, 404, _NOT_FOUND)
    @problem_response(blp, 409, "Transactions or budgets use it: `category_in_use`")
    def delete(self, category_id):
        """Delete a category no transaction or budget uses"""
        categories.delete(get_conn(), actor(), category_id)
