"""Candidate accounts, their short-lived access tokens and their refresh tokens."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.email import CanonicalEmailAddress
from app.core.types import UTCDateTime, utcnow


class Candidate(SQLModel, table=True):
    __tablename__ = "candidate"

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    email: str = Column(sa_type=sa.String(320), unique=True)
    password_hash: str = Column(sa_type=sa.String(200))
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    # Wrong passwords since the last sign-in, and until when the account takes no other
    # (app/candidates/lockout.py): in the row, so that every process sees the same lock.
    failed_sign_ins: int = Column(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = Column(default=None, sa_type=UTCDateTime)
    # When a link sent to the address was used: the address is this person's. NULL for
    # accounts made before sign-up asked for it (they still sign in).
    email_verified_at: datetime | None = Column(default=None, sa_type=UTCDateTime)


class CandidateToken(SQLModel, table=True):
    __tablename__ = "candidate_token"

    token_hash: str = Column(sa_type=sa.String(64), primary_key=True)
    candidate_id: uuid.UUID = Column(foreign_key="candidate.id", ondelete="CASCADE", index=True)
    expires_at: datetime = Column(sa_type=UTCDateTime)
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    # The sign-in it descends from, so that revoking that sign-in revokes it too. Tokens
    # issued before refresh tokens existed have none.
    family_id: uuid.UUID | None = Column(default=None, index=True)


class CandidateRefreshToken(SQLModel, table=True):
    """One link of a sign-in's chain: each use marks it used and issues the next one in the
    same family. A used one presented again means a copy leaked, and ends the family."""

    __tablename__ = "candidate_refresh_token"

    token_hash: str = Column(sa_type=sa.String(64), primary_key=True)
    family_id: uuid.UUID = Column(index=True)
    candidate_id: uuid.UUID = Column(foreign_key="candidate.id", ondelete="CASCADE", index=True)
    expires_at: datetime = Column(sa_type=UTCDateTime)
    used_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)


class CandidateCreate(BaseModel):
    email: CanonicalEmailAddress = Field(
        description="Compared in its canonical form (Unicode NFKC, then case-folded): "
        "« Camille@Example.org » and « ｃａｍｉｌｌｅ@example.org » are one account; "
        "« camille+emploi@example.org » is another."
    )
    password: str = Field(
        min_length=10,
        max_length=200,
        description="At least 10 characters, and hard enough to guess (zxcvbn's score, at "
        "least `VOCATION_PASSWORD_MIN_STRENGTH`, 3 of 4): common passwords, repeats, "
        "keyboard rows and the e-mail address get 422, with the reason.",
    )


class CandidatePublic(BaseModel):
    id: uuid.UUID
    email: str
    email_verified: bool = Field(
        description="Whether the address was proven by a link sent to it. Accounts made "
        "before sign-up asked for it are not, until a password reset or "
        "`POST /v1/candidates/verification`."
    )
    created_at: datetime

    @classmethod
    def of(cls, candidate: Candidate) -> "CandidatePublic":
        return cls(
            id=candidate.id,
            email=candidate.email,
            email_verified=candidate.email_verified_at is not None,
            created_at=candidate.created_at,
        )


class TokenResponse(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds the access token lasts.")
    refresh_token: str = Field(
        description="Gets the next access token (`grant_type=refresh_token`). Usable once: "
        "the answer holds the next one."
    )
