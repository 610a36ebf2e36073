from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from ...services.webhooks.network import MAX_URL_LENGTH
from ...services.webhooks.outbox import EVENTS
from .base import BaseSchema, FreeText, UtcTimestamp

STATUSES = ["pending", "delivered", "failed"]

_URL = {
    "description": "where deliveries are POSTed: https (http too outside production); refused "
    "when it resolves to a loopback, private, link-local or metadata address (an IPv6 address "
    "carrying an IPv4 address, IPv4-mapped or -compatible, NAT64, 6to4, Teredo or ISATAP, is "
    "judged by the IPv4 address inside), unless the operator allows private networks; the port is "
    "1-65535",
    "example": "https://hooks.example.com/expenses",
    # http(s), a host without user name or password, no #fragment, no white space or control
    # characters (the host's address and the port's range are checked on the server).
    "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\s\x00-\x1f\x7f-\x9f]+"
    r"([/?][^#\s\x00-\x1f\x7f-\x9f]*)?$",
}
_EVENTS = {"description": "the events to send", "example": ["alert.threshold", "alert.limit"]}


class WebhookInputSchema(BaseSchema):
    url = fields.String(required=True, validate=validate.Length(1, MAX_URL_LENGTH), metadata=_URL)
    events = fields.List(
        fields.String(validate=validate.OneOf(EVENTS)),
        required=True,
        validate=validate.Length(1, len(EVENTS)),
        metadata=_EVENTS,
    )
    description = FreeText(load_default="", validate=validate.Length(0, 500))


class WebhookPatchSchema(WebhookInputSchema):
    """Any subset of the fields, at least one (loaded with partial=True)."""

    OPENAPI_KEYWORDS = {"minProperties": 1}  # the document says "at least one" too

    description = FreeText(validate=validate.Length(0, 500))
    enabled = fields.Boolean(
        metadata={"description": "false disables the endpoint; true re-enables it (also one "
                  "disabled after days of failures) and forgets its failures"}
    )  # fmt: skip

    @validates_schema
    def _not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Give at least one field to change.", "_schema")


class WebhookSchema(BaseSchema):
    id = fields.Integer(required=True)
    ledger_id = fields.Integer(required=True, data_key="ledgerId")
    url = fields.String(required=True)
    events = fields.List(fields.String(metadata={"enum": list(EVENTS)}), required=True)
    description = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    disabled_at = UtcTimestamp(required=True, allow_none=True, data_key="disabledAt")
    disabled_reason = fields.String(
        required=True,
        allow_none=True,
        data_key="disabledReason",
        metadata={"description": "`disabled by an owner` or `failing for too long`"},
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")


class WebhookWithSecretSchema(WebhookSchema):
    secret = fields.String(
        required=True,
        metadata={
            "description": "`whsec_` + base64 of 32 random bytes: verifies the "
            "`webhook-signature` of deliveries. Shown only here.",
            "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        },
    )


class WebhookListSchema(BaseSchema):
    items = fields.List(fields.Nested(WebhookSchema), required=True)


class DeliverySchema(BaseSchema):
    id = fields.Integer(required=True)
    event = fields.String(required=True, metadata={"enum": list(EVENTS)})
    status = fields.String(required=True, metadata={"enum": STATUSES})
    attempts = fields.Integer(required=True)
    response_status = fields.Integer(required=True, allow_none=True, data_key="responseStatus")
    last_error = fields.String(required=True, allow_none=True, data_key="lastError")
    next_attempt_at = UtcTimestamp(
        required=True,
        allow_none=True,
        data_key="nextAttemptAt",
        metadata={"description": "when the next attempt is due; null once delivered or failed"},
    )
    created_at = UtcTimestamp(required=True, data_key="createdAt")


class DeliveryQuerySchema(BaseSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    cursor = fields.String(validate=validate.Length(1, 200))


class DeliveryPageSchema(BaseSchema):
    items = fields.List(fields.Nested(DeliverySchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True, data_key="nextCursor")
