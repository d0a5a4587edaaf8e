"""How long an offer is shown: until its `expires_at`, which defaults to the end of its
deadline's day or, without a deadline, to its publication plus a default lifetime.

Real offers often say nothing of their end; shown for ever, an offer from 2018 would still
read as open. The default is stored on the offer when it is written (by the one writer),
so that reads, feeds and the expiry worker compare one column with the clock.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings

# Where a session finds the lifetime of the service's settings (see session_info).
_SESSION_KEY = "offer_lifetime"


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first moment after ``day`` in ``zone``, in UTC: when a deadline has passed."""
    return datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Lifetime:
    zone: ZoneInfo
    default_days: int

    @classmethod
    def of(cls, settings: Settings) -> "Lifetime":
        return cls(ZoneInfo(settings.timezone), settings.offer_default_days)

    def default_expiry(
        self, deadline: date | None, published_at: datetime | None
    ) -> datetime | None:
        """When an offer stops being shown if its writer did not say; None for a draft
        without a deadline (its clock starts at publication)."""
        if deadline is not None:
            return end_of_day(deadline, self.zone)
        if published_at is not None:
            return published_at.astimezone(UTC) + timedelta(days=self.default_days)
        return None


def session_info(settings: Settings) -> dict[str, Any]:
    """What the service's sessions carry (app.main): the writer reads the lifetime from
    the session it writes with, wherever it is called from."""
    return {_SESSION_KEY: Lifetime.of(settings)}


# The settings' defaults, for a session made without session_info (a script's own engine).
DEFAULT = Lifetime(
    ZoneInfo(Settings.model_fields["timezone"].default),
    Settings.model_fields["offer_default_days"].default,
)


def of_session(session: AsyncSession) -> Lifetime:
    """The lifetime the session's database was set up with (app.main), or the default's."""
    lifetime = session.info.get(_SESSION_KEY, DEFAULT)
    assert isinstance(lifetime, Lifetime)
    return lifetime
