"""The domain events of applications (app/events.py): ids and links, never the candidate's
personal data, since subscribers outside the service receive them."""

from app.applications.mails import application_url
from app.applications.models import Application
from app.events import Event


def application_event(kind: str, application: Application, base: str) -> Event:
    """``kind``: ``application.received``, ``application.withdrawn`` or ``application.erased``."""
    return Event(
        type=kind,
        data={
            "application_id": str(application.id),
            "offer_id": str(application.offer_id),
            "organisation_id": str(application.organisation_id),
            "links": {
                "application": application_url(base, application),
                "offer": f"{base}/v1/offers/{application.offer_id}",
            },
        },
        organisation_id=application.organisation_id,
        offer_id=application.offer_id,
    )
