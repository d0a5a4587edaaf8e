"""Telling the organisation of a new application: one e-mail at once, or a line in the next
daily digest (app/applications/digest.py), as the organisation chose.

The notification address is often a shared mailbox, and mail is read on phones and kept
for years: the e-mail names the offer and links to the application in the API, where the
recruiter's key shows the rest. No name, no address, no CV."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.mails import application_url
from app.applications.models import Application
from app.mail import queue_mail
from app.offers.models import Offer
from app.organisations.models import NotificationFrequency, Organisation


def applications_url(base: str, offer: Offer) -> str:
    return f"{base}/v1/applications?offer_id={offer.id}"


async def on_received(
    session: AsyncSession,
    application: Application,
    offer: Offer,
    organisation: Organisation,
    *,
    base: str,
) -> None:
    """In the transaction that makes the application received."""
    if organisation.notification_email is None:
        return
    if organisation.notification_frequency == NotificationFrequency.daily.value:
        application.awaiting_digest = True
        return
    await queue_mail(
        session,
        to=organisation.notification_email,
        template="recruiter_new_application",
        context={
            "organisation_name": organisation.name,
            "offer_title": offer.title,
            "offer_reference": offer.reference,
            "application_url": application_url(base, application),
            "applications_url": applications_url(base, offer),
        },
    )
