"""Taking an application in: who may apply to which offer, and the transactional write of
the application with its files, once per Idempotency-Key. The files' checks are in
``files``, the follow-up token in ``follow_up``; whether the address is proven, in
``proof``: a proven one is received at once, any other is pending until confirmed
(``confirmation``)."""

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import files, follow_up, mails, received
from app.applications.files import CheckedFile
from app.applications.models import (
    Application,
    ApplicationCreated,
    ApplicationEvent,
    ApplicationStatus,
)
from app.applications.pending import CONFIRM_PURPOSE, PENDING_LIFETIME
from app.applications.proof import address_is_proven
from app.core import email_tokens, idempotency
from app.core.api_keys import Role
from app.core.email import canonical_email
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.security import CANDIDATE, Principal
from app.core.storage import Storage
from app.core.types import utcnow
from app.offers.models import Offer
from app.offers.reads import effective_status
from app.organisations.models import Organisation

RECEIVED, PENDING = 201, 202


def email_fingerprint(email: str) -> str:
    """What the duplicate check compares: the canonical address, so that « ｃａ@… » and
    « CA@… » are caught as « ca@… »; « +tag » stays a distinct address."""
    return hashlib.sha256(canonical_email(email).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Candidature:
    """What the candidate sent, validated."""

    first_name: str
    last_name: str
    email: str
    phone: str | None
    message: str | None
    keep_for_future_offers: bool


@dataclass(frozen=True, slots=True)
class Submission:
    """One application request: who sends it, what it says, and its checked files."""

    offer_id: uuid.UUID
    principal: Principal | None
    candidature: Candidature
    files: list[CheckedFile]


async def apply(
    session: AsyncSession,
    storage: Storage,
    submission: Submission,
    *,
    today: date,
    max_bytes: int,
    base: str,
    idempotency_key: str | None = None,
) -> tuple[int, ApplicationCreated]:
    """Take the application in, once however often it is retried with the same key; the
    status to answer with (201 received, 202 pending), and the answer. ``base``: the public
    base URL, for the links in e-mails."""
    key = None
    if idempotency_key is not None:
        request_hash = await request_fingerprint(submission)
        key = idempotency.Key(f"apply:{submission.offer_id}", idempotency_key, request_hash)

    async def write(commit: idempotency.Commit) -> tuple[int, ApplicationCreated]:
        offer = await check_offer_open(session, submission.offer_id, today)
        proven = await address_is_proven(
            session, submission.principal, submission.candidature.email
        )
        return await _write(session, storage, offer, submission, max_bytes, commit, proven, base)

    outcome = await idempotency.run_once(session, key, write)
    if isinstance(outcome, idempotency.Replay):
        if outcome.status == PENDING:
            # Replayed as it was, without looking: whether the address's owner confirmed
            # the application since, or let it be erased, is no business of the key's
            # holder, who may be whoever typed that address.
            return PENDING, ApplicationCreated.model_validate_json(outcome.body)
        return outcome.status, await replay_created(session, outcome.body)
    return outcome


async def request_fingerprint(submission: Submission) -> str:
    """What makes two application requests "the same" for Idempotency-Key: the caller, the
    fields and the files' contents (not the multipart bytes, whose boundary varies)."""
    principal = submission.principal
    who = str(principal.key_id or principal.candidate_id) if principal else None
    digests = [await files.sha256(checked) for checked in submission.files]
    return idempotency.fingerprint([who, repr(submission.candidature), digests])


async def check_offer_open(session: AsyncSession, offer_id: uuid.UUID, today: date) -> Offer:
    offer = await session.get(Offer, offer_id)
    # Never published (a draft, or a draft closed as such): not found, as GET answers.
    if offer is None or offer.status == "draft" or offer.published_at is None:
        raise NotFound("No offer with this id.")
    status = effective_status(offer.status, offer.deadline, offer.expires_at, today, utcnow())
    if status != "published":
        raise Conflict("This offer is closed: it no longer takes applications.")
    if offer.apply_via is None:
        raise Unprocessable("This offer does not say how to apply; it takes no application here.")
    if offer.apply_via != "platform":
        where = offer.apply_url or offer.apply_email or "the recruiter"
        raise Unprocessable(
            f"This offer takes applications elsewhere ({offer.apply_via}: {where}), not here."
        )
    return offer


async def _write(
    session: AsyncSession,
    storage: Storage,
    offer: Offer,
    submission: Submission,
    max_bytes: int,
    commit: idempotency.Commit,
    proven: bool,
    base: str,
) -> tuple[int, ApplicationCreated]:
    """Store the files, then write the rows and commit; if anything fails, remove what was
    stored, so there is never a file without its row nor a row without its files.

    A pending application looks for no earlier one and blocks none (no ``email_hash``):
    its answer must be the same whatever that address did before, and whoever typed
    someone else's address must not keep its owner out."""
    token = token_hash = email_hash = None
    if proven:
        email_hash = email_fingerprint(submission.candidature.email)
        duplicate = await session.execute(
            select(col(Application.id)).where(
                col(Application.offer_id) == offer.id, col(Application.email_hash) == email_hash
            )
        )
        if duplicate.first() is not None:
            raise _duplicate()
        token, token_hash = follow_up.new_token()
    application = _new_application(offer, submission, email_hash, token_hash)
    # Files first, outside any transaction: an upload may take seconds, and holding a
    # connection (or SQLite's write lock) that long would stall everyone else.
    await session.commit()
    stored = await files.store(storage, submission.files, max_bytes=max_bytes)
    try:
        session.add(application)
        # No ORM relationship orders the inserts: the application goes first.
        await session.flush()
        session.add_all([file.row(application.id) for file in stored])
        if proven:
            status = RECEIVED
            session.add(
                ApplicationEvent(
                    application_id=application.id,
                    to_status=ApplicationStatus.received.value,
                    actor="candidate",
                )
            )
            await received.announce(session, application, follow_up_token=None, base=base)
        else:
            status = PENDING
            await _ask_confirmation(session, application, offer, base)
        created = ApplicationCreated(
            id=application.id, status=ApplicationStatus(application.status), follow_up_token=None
        )
        # The follow-up token is a secret: the recorded answer leaves it out, and a replay
        # gets none (see ``replay_created``).
        await commit(status, created.model_dump_json())
    except BaseException as error:
        # Rolled back first: the write lock is not held while the files are removed.
        await session.rollback()
        await files.remove(storage, stored)
        if isinstance(error, IntegrityError):
            raise _duplicate() from None
        raise
    return status, created.model_copy(update={"follow_up_token": token})


async def _ask_confirmation(
    session: AsyncSession, application: Application, offer: Offer, base: str
) -> None:
    organisation = await session.get(Organisation, offer.organisation_id)
    assert organisation is not None
    token = await email_tokens.issue(
        session, CONFIRM_PURPOSE, lifetime=PENDING_LIFETIME, application_id=application.id
    )
    await mails.ask_confirmation(
        session, application, offer, organisation, token=token, lifetime=PENDING_LIFETIME, base=base
    )


def _new_application(
    offer: Offer, submission: Submission, email_hash: str | None, token_hash: str | None
) -> Application:
    principal, candidature = submission.principal, submission.candidature
    now = utcnow()
    proven = email_hash is not None
    return Application(
        offer_id=offer.id,
        organisation_id=offer.organisation_id,
        status=(ApplicationStatus.received if proven else ApplicationStatus.pending).value,
        # Only a proven application joins an account: a pending one may carry someone
        # else's address, and the account that sent it must not read what its owner
        # confirms.
        candidate_id=principal.candidate_id
        if proven and principal and principal.role == CANDIDATE
        else None,
        partner_key_id=principal.key_id if principal and principal.role == Role.partner else None,
        first_name=candidature.first_name,
        last_name=candidature.last_name,
        email=canonical_email(candidature.email),
        email_hash=email_hash,
        phone=candidature.phone,
        message=candidature.message,
        consent_at=now,
        keep_for_future_offers=candidature.keep_for_future_offers,
        follow_up_token_hash=token_hash,
        last_candidate_action_at=now,
    )


async def replay_created(session: AsyncSession, recorded: str) -> ApplicationCreated:
    """The answer to a retried application: the same application, without its follow-up
    token. The key and the body are no secret (a proxy's log, a shared device, a script's
    retry queue hold them): replaying a token, new or old, would hand the application to
    whoever holds them, and minting a new one revoked the candidate's own. A candidate
    who lost the first answer still has the application in their account, if signed in."""
    data = json.loads(recorded)
    application = await session.get(Application, uuid.UUID(data["id"]))
    if application is None or application.erased_at is not None:
        raise NotFound("This application no longer exists.")
    return ApplicationCreated(
        id=application.id, status=ApplicationStatus(application.status), follow_up_token=None
    )


def _duplicate() -> Conflict:
    return Conflict("You have already applied to this offer with this e-mail address.")
