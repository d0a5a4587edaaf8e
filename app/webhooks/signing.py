"""Secrets and signatures, as the Standard Webhooks specification has them: receivers
verify with the `standardwebhooks` library of their language."""

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from math import floor

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix the specification gives secrets)
# The specification asks for 24 to 64 bytes; 32 is the HMAC-SHA256 block's half.
_SECRET_BYTES = 32
MESSAGE_PREFIX = "msg_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def webhook_id(message_id: uuid.UUID) -> str:
    """The `webhook-id` of a message: the same for every attempt and redelivery, so that
    a receiver can tell a message it already handled."""
    return MESSAGE_PREFIX + message_id.hex


def message_uuid(webhook_id_or_uuid: str) -> uuid.UUID | None:
    """The message behind a `webhook-id` (or a plain UUID); None when it is neither."""
    text = webhook_id_or_uuid.removeprefix(MESSAGE_PREFIX)
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def signed_headers(
    message_id: uuid.UUID, body: bytes, at: datetime, keys: Sequence[str]
) -> dict[str, str]:
    """The three headers of a delivery: one signature per secret, space-separated, so that
    during a rotation a receiver holding either secret verifies."""
    msg_id = webhook_id(message_id)
    signatures = " ".join(Webhook(key).sign(msg_id, at, body) for key in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": signatures,
    }
