"""What day it is for the service: French calendar days, in the zone of the settings."""

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request


def zone_of(request: Request) -> ZoneInfo:
    return ZoneInfo(request.app.state.settings.timezone)


async def today(request: Request) -> date:
    """Deadlines are French calendar days: an offer stays open until midnight in Paris."""
    return datetime.now(zone_of(request)).date()


Today = Annotated[date, Depends(today)]
