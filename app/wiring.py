"""What every session of the service carries, wherever it is made (the server, the CLI):
the offers' lifetime settings and the handlers of domain events."""

from typing import Any

from app.core.config import Settings
from app.events import HANDLERS, Handler
from app.offers import lifetime
from app.webhooks.fanout import webhook_handler


def event_handlers(settings: Settings) -> list[Handler]:
    return [webhook_handler(settings)]


def session_info(settings: Settings) -> dict[str, Any]:
    return {**lifetime.session_info(settings), HANDLERS: event_handlers(settings)}
