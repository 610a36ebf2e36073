from __future__ import annotations

from functools import cache

import iso4217
from marshmallow import ValidationError, fields, validate

from ...services import ledgers
from .base import BaseSchema, Name, StrictBoolean, TrimmedString, UtcTimestamp
from .two_factor import second_factor


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes with a defined number of minor units (not funds or precious metals)."""
    return frozenset(c.code for c in iso4217.Currency if c.exponent is not None)


def timezone_names() -> frozenset[str]:
    """The names the OpenAPI document lists: Python's. The database may know fewer (an embedded
    PostgreSQL's list is older than tzdata's); those get 422 from the service's own check."""
    return ledgers.python_time_zones()


def _is_currency(value: str) -> None:
    if value not in currency_codes():
        raise ValidationError("Must be an ISO 4217 currency code, such as USD.")


def _is_timezone(value: str) -> None:
    """Python's half of services.ledgers.check_time_zone, here so that it is reported with the
    other fields' errors; the service asks the database too."""
    if value not in ledgers.python_time_zones():
        raise ValidationError(ledgers.TIME_ZONE_MESSAGE)


class UserSchema(BaseSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["user", "admin"]})
    currency = fields.String(required=True, metadata={"example": "USD"})
    timezone = fields.String(required=True, metadata={"example": "Europe/Berlin"})
    created_at = UtcTimestamp(required=True, data_key="createdAt")


class UserEnvelopeSchema(BaseSchema):
    user = fields.Nested(UserSchema, required=True)


class CallerSchema(UserSchema):
    """The caller as /api/auth/me shows them: the account's own settings besides who they are."""

    totp_enabled = fields.Boolean(
        required=True,
        data_key="totpEnabled",
        metadata={"description": "Whether two-factor sign-in is on (POST /api/auth/totp/...)."},
    )


class CallerEnvelopeSchema(BaseSchema):
    user = fields.Nested(CallerSchema, required=True)


class RegisterSchema(BaseSchema):
    name = Name(required=True, validate=validate.Length(1, 100))
    email = TrimmedString(
        required=True,
        validate=[validate.Length(3, 254), validate.Email()],
        metadata={"format": "email"},
    )
    password = fields.String(
        required=True,
        validate=validate.Length(8, 128),
        load_only=True,
        metadata={"format": "password"},
    )
    currency = fields.String(
        load_default="USD",
        validate=_is_currency,
        metadata={
            "description": "ISO 4217 code; fixes how many fraction digits amounts have",
            "example": "EUR",
            "enum": sorted(currency_codes()),
        },
    )
    timezone = fields.String(
        load_default="UTC",
        validate=_is_timezone,
        metadata={
            "description": "IANA time zone name that the service's database knows too (422 "
            "validation_error otherwise)",
            "example": "Asia/Kolkata",
            "enum": sorted(timezone_names()),
        },
    )


class LoginSchema(BaseSchema):
    # Trimmed like RegisterSchema's, so an email pasted with a space logs in as it registered.
    email = TrimmedString(
        required=True,
        validate=validate.Length(1, 254),
        metadata={"pattern": r"\S", "description": "trimmed; not blank"},
    )
    password = fields.String(required=True, validate=validate.Length(1, 1024), load_only=True)
    totp = second_factor(
        load_only=True,
        metadata={
            "description": "with two-factor sign-in on: a current code (6 digits) or an unused "
            "recovery code; without it such a login is 401 totp_required (ignored when it is off)"
        },
    )
    refresh_cookie = StrictBoolean(
        load_default=False,
        data_key="refreshCookie",
        metadata={
            "description": "true: the refresh token goes into an HttpOnly cookie scoped to "
            "/api/auth/refresh instead of the body (browsers; see POST /api/auth/refresh)"
        },
    )


class TokenPairSchema(BaseSchema):
    access_token = fields.String(required=True, data_key="accessToken")
    refresh_token = fields.String(
        data_key="refreshToken",
        metadata={"description": "absent in cookie mode (refreshCookie), where it is a cookie"},
    )
    token_type = fields.String(required=True, data_key="tokenType", metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(
        required=True, data_key="expiresIn", metadata={"description": "access token lifetime, s"}
    )
    user = fields.Nested(UserSchema, required=True)
