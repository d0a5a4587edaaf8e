"""The domain events of applications (app/events.py): ids only, never the candidate's
personal data, since subscribers outside the service receive them (app.webhooks adds the
links)."""

from app.applications.models import Application
from app.events import Event


def application_event(kind: str, application: Application) -> Event:
    """``kind``: ``application.received``, ``application.withdrawn`` or ``application.erased``."""
    return Event(
        type=kind,
        data={"application_id": str(application.id), "offer_id": str(application.offer_id)},
        organisation_id=application.organisation_id,
        offer_id=application.offer_id,
    )
