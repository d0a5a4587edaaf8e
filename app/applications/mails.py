"""The e-mails a candidate gets about an application: the link that confirms it, the
receipt, and each status a recruiter gives it.

Each is queued in the transaction of the change it tells of (app/mail), so it goes if and
only if that change was committed. Contexts hold what the message shows and no more: they
wait in the outbox, and no greeting by name is worth keeping a name there."""

from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application, ApplicationStatus
from app.mail import queue_mail
from app.offers.models import Offer
from app.organisations.models import Organisation

CONFIRM_PATH = "/v1/applications/confirm"

STATUS_LABELS = {
    ApplicationStatus.received: "reçue",
    ApplicationStatus.in_review: "en cours d'examen",
    ApplicationStatus.interview: "retenue pour un entretien",
    ApplicationStatus.offer: "retenue : une proposition vous est faite",
    ApplicationStatus.hired: "retenue : vous êtes recruté·e",
    ApplicationStatus.rejected: "non retenue",
    ApplicationStatus.withdrawn: "retirée",
}


def application_url(base: str, application: Application) -> str:
    return f"{base}/v1/applications/{application.id}"


def _about(offer: Offer, organisation: Organisation) -> dict[str, str]:
    return {"offer_title": offer.title, "organisation_name": organisation.name}


async def ask_confirmation(
    session: AsyncSession,
    application: Application,
    offer: Offer,
    organisation: Organisation,
    *,
    token: str,
    lifetime: timedelta,
    base: str,
) -> None:
    assert application.email is not None
    await queue_mail(
        session,
        to=application.email,
        template="application_confirm",
        context={
            **_about(offer, organisation),
            "confirm_url": f"{base}{CONFIRM_PATH}?{urlencode({'token': token})}",
            "hours": int(lifetime.total_seconds() // 3600),
        },
    )


async def send_receipt(
    session: AsyncSession,
    application: Application,
    offer: Offer,
    organisation: Organisation,
    *,
    follow_up_token: str | None,
    base: str,
) -> None:
    """``follow_up_token``: for a confirmed application, the token the confirmation made;
    None for a signed-in candidate, who has the application in their account and got the
    token in the answer."""
    assert application.email is not None
    await queue_mail(
        session,
        to=application.email,
        template="application_receipt",
        context={
            **_about(offer, organisation),
            "application_url": application_url(base, application),
            "follow_up_token": follow_up_token,
        },
    )


async def tell_status(
    session: AsyncSession,
    application: Application,
    offer: Offer,
    organisation: Organisation,
    *,
    status: ApplicationStatus,
    shared_note: str | None,
    base: str,
) -> None:
    if application.email is None:
        return
    await queue_mail(
        session,
        to=application.email,
        template="application_status",
        context={
            **_about(offer, organisation),
            "status": status.value,
            "status_label": STATUS_LABELS[status],
            "note": shared_note,
            "application_url": application_url(base, application),
        },
    )
