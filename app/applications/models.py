"""Applications, their documents and status history: the tables and the API's schemas.

This is where personal data lives. Public schemas are allow-lists; erasure nulls the
personal columns and keeps a tombstone so recruiters see that the application existed.
"""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.types import UTCDateTime, utcnow


class ApplicationStatus(StrEnum):
    # Made without a proven address: waits for the link sent to it, seen by nobody until
    # then, and erased after ``PENDING_LIFETIME`` (app/applications/pending.py).
    pending = "pending"
    received = "received"
    in_review = "in_review"
    interview = "interview"
    offer = "offer"
    hired = "hired"
    rejected = "rejected"
    withdrawn = "withdrawn"


PIPELINE = (
    ApplicationStatus.received,
    ApplicationStatus.in_review,
    ApplicationStatus.interview,
    ApplicationStatus.offer,
    ApplicationStatus.hired,
)
OPEN_STATUSES = frozenset(PIPELINE[:-1])


class DocumentKind(StrEnum):
    cv = "cv"
    cover_letter = "cover_letter"


class Application(SQLModel, table=True):
    __tablename__ = "application"
    __table_args__ = (
        # One application per person and offer; erasure clears the hash so the person
        # may apply again.
        sa.UniqueConstraint("offer_id", "email_hash"),
        sa.Index("ix_application_listing", "organisation_id", "created_at", "id"),
        # The sweep of unconfirmed applications, and the digest's look for what is owed.
        sa.Index("ix_application_status_created", "status", "created_at"),
        sa.Index("ix_application_awaiting_digest", "awaiting_digest", "organisation_id"),
    )

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    offer_id: uuid.UUID = Column(foreign_key="offer.id", index=True)
    organisation_id: uuid.UUID = Column(foreign_key="organisation.id")
    candidate_id: uuid.UUID | None = Column(
        default=None, foreign_key="candidate.id", ondelete="SET NULL", index=True
    )
    partner_key_id: uuid.UUID | None = Column(
        default=None, foreign_key="api_key.id", ondelete="SET NULL"
    )
    status: str = Column(default=ApplicationStatus.received.value, sa_type=sa.String(12))
    first_name: str | None = Column(default=None, sa_type=sa.String(100))
    last_name: str | None = Column(default=None, sa_type=sa.String(100))
    email: str | None = Column(default=None, sa_type=sa.String(320))
    email_hash: str | None = Column(default=None, sa_type=sa.String(64))
    phone: str | None = Column(default=None, sa_type=sa.String(40))
    message: str | None = Column(default=None, sa_type=sa.Text)
    consent_at: datetime = Column(sa_type=UTCDateTime)
    keep_for_future_offers: bool = Column(default=False)
    follow_up_token_hash: str | None = Column(default=None, sa_type=sa.String(64), unique=True)
    last_candidate_action_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    erased_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    # Received, and owed to the organisation's next daily digest (app/applications/digest.py).
    awaiting_digest: bool = Column(default=False, sa_column_kwargs={"server_default": sa.false()})
    # When it reached hired, rejected or withdrawn: the process ended for this person.
    ended_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Column(default=1)


class ApplicationDocument(SQLModel, table=True):
    __tablename__ = "application_document"

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Column(foreign_key="application.id", ondelete="CASCADE", index=True)
    kind: str = Column(sa_type=sa.String(16))
    storage_key: str = Column(sa_type=sa.String(200), unique=True)
    file_name: str = Column(sa_type=sa.String(200))
    content_type: str = Column(sa_type=sa.String(100))
    size: int = Column(sa_type=sa.BigInteger)
    sha256: str = Column(sa_type=sa.String(64))
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)


class ApplicationEvent(SQLModel, table=True):
    """The status history: who moved the application, when, and why."""

    __tablename__ = "application_event"

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    application_id: uuid.UUID = Column(foreign_key="application.id", ondelete="CASCADE", index=True)
    from_status: str | None = Column(default=None, sa_type=sa.String(12))
    to_status: str = Column(sa_type=sa.String(12))
    note: str | None = Column(default=None, sa_type=sa.Text)
    actor: str = Column(sa_type=sa.String(16))
    actor_key_id: uuid.UUID | None = Column(default=None)
    at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """Who read which document. Ids only: no personal data, so it outlives purges."""

    __tablename__ = "audit_event"

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    action: str = Column(sa_type=sa.String(40))
    actor: str = Column(sa_type=sa.String(16))
    actor_key_id: uuid.UUID | None = Column(default=None)
    organisation_id: uuid.UUID | None = Column(default=None)
    application_id: uuid.UUID | None = Column(default=None)
    document_id: uuid.UUID | None = Column(default=None)


# --- API schemas -------------------------------------------------------------------------


class DocumentPublic(BaseModel):
    id: uuid.UUID
    kind: DocumentKind
    file_name: str
    content_type: str
    size: int
    sha256: str


class EventPublic(BaseModel):
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    note: str | None
    actor: str
    at: datetime


class ApplicationCreated(BaseModel):
    id: uuid.UUID
    status: ApplicationStatus = Field(
        description="`received` at once (`201`), or `pending` (`202`) until the link e-mailed "
        "to the address confirms it."
    )
    follow_up_token: str | None = Field(
        description="Shown only in this response (and in the receipt e-mailed to the "
        "candidate). Send it as `Authorization: Bearer <token>` to read or withdraw this "
        "application; it works nowhere else. `null` for a `pending` application (the token "
        "comes with its confirmation, to the address's owner only) and when the answer is a "
        "replay (same `Idempotency-Key` and request): a replay never shows nor renews the "
        "token, and the first one keeps working."
    )


class ConfirmationRequest(BaseModel):
    token: str = Field(
        min_length=1, max_length=200, description="The `token` of the link in the e-mail."
    )


class ApplicationSummary(BaseModel):
    """A line of the recruiter's list."""

    id: uuid.UUID
    offer_id: uuid.UUID
    status: ApplicationStatus
    first_name: str | None
    last_name: str | None
    created_at: datetime
    updated_at: datetime
    erased: bool


class ApplicationDetail(ApplicationSummary):
    email: str | None
    phone: str | None
    message: str | None
    consent_at: datetime
    keep_for_future_offers: bool
    retention_until: datetime = Field(
        description="When the data will be deleted (`vocation purge`). It may move: a "
        "closing offer or a final status brings it closer; it is never more than two years "
        "after the candidate's last action."
    )
    source_partner: bool = Field(description="Whether a partner site sent it.")
    documents: list[DocumentPublic]
    history: list[EventPublic]


class StatusChange(BaseModel):
    status: ApplicationStatus
    note: str | None = Field(default=None, max_length=5000)
    share_note: bool = Field(
        default=False,
        description="Put the note in the e-mail that tells the candidate of the new status. "
        "Without it the e-mail gives the status alone; the note stays in `history`, which the "
        "candidate may read (right of access).",
    )
