"""/api/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from flask.views import MethodView

from ..auth import service
from ..jsonio import Blueprint
from ..schemas.auth import LoginSchema, RegisterSchema, TokenPairSchema, UserEnvelopeSchema
from .common import authenticated, client_address, problem_response, token_claims, user

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Accounts and tokens")


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, UserEnvelopeSchema)
    @problem_response(blp, 409, "The email is taken (any case): code `email_taken`")
    def post(self, body):
        """Create an account"""
        return {"user": service.register(**body)}


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenPairSchema)
    @problem_response(blp, 401, "Wrong email or password: code `invalid_credentials`")
    @problem_response(blp, 429, "Too many failed logins for this email or address; see Retry-After")
    def post(self, body):
        """Log in: an access token and a refresh token"""
        return service.login(
            email=body["email"], password=body["password"], address=client_address()
        )


@blp.route("/refresh")
class Refresh(MethodView):
    @authenticated(blp, refresh=True)
    @blp.response(200, TokenPairSchema)
    def post(self):
        """Exchange the refresh token (as bearer) for new tokens; the old one stops working"""
        return service.refresh(user=user(), claims=token_claims())


@blp.route("/logout")
class Logout(MethodView):
    @authenticated(blp)
    @blp.response(204)
    def post(self):
        """Revoke this session: its access and refresh tokens stop working"""
        service.logout(user=user(), claims=token_claims())


@blp.route("/me")
class Me(MethodView):
    @authenticated(blp)
    @blp.response(200, UserEnvelopeSchema)
    def get(self):
        """The authenticated user"""
        return {"user": user()}
