"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from app.applications.models import Application, ApplicationDocument, ApplicationEvent, AuditEvent
from app.candidates.models import Candidate, CandidateRefreshToken, CandidateToken
from app.core.api_keys import ApiKey
from app.core.email_tokens import EmailToken
from app.core.idempotency import IdempotencyRecord
from app.offers.changes import OfferChange
from app.offers.models import Offer
from app.organisations.models import Organisation
from app.outbox.models import OutboxMessage
from app.search.queue import SearchQueue
from app.webhooks.models import WebhookDelivery, WebhookSubscription

metadata = SQLModel.metadata

__all__ = [
    "ApiKey",
    "Application",
    "ApplicationDocument",
    "ApplicationEvent",
    "AuditEvent",
    "Candidate",
    "CandidateRefreshToken",
    "CandidateToken",
    "EmailToken",
    "IdempotencyRecord",
    "Offer",
    "OfferChange",
    "Organisation",
    "OutboxMessage",
    "SearchQueue",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
