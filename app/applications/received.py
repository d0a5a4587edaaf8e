"""What follows an application becoming `received` (at once for a proven address, or when
its link is used): the organisation is told, the candidate gets a receipt, and the
`application.received` event goes to subscribers. All in the transaction that makes it
received, so that none of it happens for an application that was not."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.applications import mails, notify
from app.applications.events import application_event
from app.applications.models import Application
from app.events import emit
from app.offers.models import Offer
from app.organisations.models import Organisation


async def announce(
    session: AsyncSession, application: Application, *, follow_up_token: str | None, base: str
) -> None:
    offer = await session.get(Offer, application.offer_id)
    organisation = await session.get(Organisation, application.organisation_id)
    assert offer is not None
    assert organisation is not None
    await notify.on_received(session, application, offer, organisation, base=base)
    await mails.send_receipt(
        session, application, offer, organisation, follow_up_token=follow_up_token, base=base
    )
    await emit(session, application_event("application.received", application))
