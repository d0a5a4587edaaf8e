"""Column types that behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Every models module imports this one, so the naming convention is set before any table.
import app.core.metadata  # noqa: F401


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out.

    SQLite has no time zone type and hands back naive values; storing naive UTC there and
    re-attaching UTC on the way out gives callers the same aware datetime on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


def utcnow() -> datetime:
    return datetime.now(UTC)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def in_storable_range(moment: datetime) -> datetime:
    """``moment`` in UTC, or ValueError: year 1 or 9999 with an offset overflows on the way
    to UTC, and the drivers refuse what the engines cannot hold."""
    if moment.tzinfo is None:
        raise ValueError("a time zone is required")
    try:
        in_utc = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("date out of range") from None
    if not EARLIEST <= in_utc < LATEST:
        raise ValueError("date out of range (1970 to 9998)")
    return in_utc


# Clocks drift: a moment a few minutes ahead of ours is "now" on the sender's machine.
CLOCK_SKEW = timedelta(minutes=5)


def not_in_future(moment: datetime) -> datetime:
    """``moment`` in UTC, or ValueError when it is ahead of now or cannot be stored."""
    in_utc = in_storable_range(moment)
    if in_utc > utcnow() + CLOCK_SKEW:
        raise ValueError("must not be in the future")
    return in_utc


PastMoment = Annotated[datetime, AfterValidator(not_in_future)]
"""A moment that has happened, with its time zone: when an offer was first published."""

Moment = Annotated[datetime, AfterValidator(in_storable_range)]
"""A moment with its time zone, past or future, that both engines can store (in UTC)."""
