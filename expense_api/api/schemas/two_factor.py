"""Two-factor sign-in's bodies (POST /api/auth/totp/...) and the security events list."""

from __future__ import annotations

from marshmallow import fields, validate

from ...services.auth import two_factor
from ...services.auth.events import KINDS
from .base import BaseSchema, UtcTimestamp

_CODE_MESSAGE = "Must be the 6 digits your authenticator app shows."
_FACTOR_MESSAGE = (
    "Must be the 6 digits your authenticator app shows, or a recovery code (xxxx-xxxx-xxxx-xxxx)."
)


def totp_code(**kwargs) -> fields.String:
    """A current code: 6 digits."""
    return fields.String(
        validate=validate.Regexp(two_factor.TOTP_CODE_PATTERN, error=_CODE_MESSAGE),
        metadata={"example": "492039", **kwargs.pop("metadata", {})},
        **kwargs,
    )


def second_factor(**kwargs) -> fields.String:
    """A current code, or one of the recovery codes (any case, dashes optional)."""
    return fields.String(
        validate=validate.Regexp(two_factor.SECOND_FACTOR_PATTERN, error=_FACTOR_MESSAGE),
        metadata={
            "description": "a current code (6 digits) or an unused recovery code",
            "example": "492039",
            **kwargs.pop("metadata", {}),
        },
        **kwargs,
    )


class TotpSetupSchema(BaseSchema):
    secret = fields.String(
        required=True,
        metadata={"description": "the base32 secret, for typing into an app by hand"},
    )
    otpauth_uri = fields.String(
        required=True,
        data_key="otpauthUri",
        metadata={"description": "otpauth://totp/... (issuer expense-api, the account's email)"},
    )
    qr_code = fields.String(
        required=True,
        data_key="qrCode",
        metadata={
            "description": "the otpauthUri's QR code: a data:image/svg+xml;base64 URI for an "
            "<img> (an extension of the contract)",
            "pattern": "^data:image/svg\\+xml;base64,",
        },
    )


class TotpEnableSchema(BaseSchema):
    code = totp_code(required=True)


class RecoveryCodesSchema(BaseSchema):
    recovery_codes = fields.List(
        fields.String(metadata={"example": "k7dq-3mzx-a2pl-wq5r"}),
        required=True,
        data_key="recoveryCodes",
        metadata={"description": "ten one-time codes, shown this once; each replaces a code once"},
    )


class TotpDisableSchema(BaseSchema):
    password = fields.String(
        required=True,
        validate=validate.Length(1, 1024),
        load_only=True,
        metadata={"format": "password"},
    )
    code = second_factor(required=True)


class SecurityEventQuerySchema(BaseSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(1, 200))


class SecurityEventSchema(BaseSchema):
    id = fields.Integer(required=True)
    at = UtcTimestamp(required=True)
    kind = fields.String(
        required=True,
        metadata={"description": "what happened", "example": "login", "enum": sorted(KINDS)},
    )
    address = fields.String(
        required=True, allow_none=True, metadata={"description": "the client's address"}
    )
    user_agent = fields.String(required=True, allow_none=True, data_key="userAgent")
    session_id = fields.UUID(
        data_key="sessionId",
        metadata={"description": "the session it happened in or started; absent if none"},
    )
    detail = fields.Dict(
        required=True,
        metadata={"description": "more about it, by kind (a failed login's `reason`, ...)"},
    )


class SecurityEventPageSchema(BaseSchema):
    items = fields.List(fields.Nested(SecurityEventSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True, data_key="nextCursor")
