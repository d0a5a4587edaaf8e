"""How long application data is kept (RGPD).

Without consent to be kept for future offers, data goes three months after the process
ends: the offer was closed, its deadline passed, or the application itself reached a final
status (hired, rejected, withdrawn). With that consent, two years after the candidate's
last action. Never longer than two years after that last action, even for an offer that
stays open with no deadline. Months are counted on the Paris calendar.
"""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KEEP_MONTHS_AFTER_PROCESS = 3
KEEP_MONTHS_WITH_CONSENT = 24


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, in ``moment``'s own zone (give it a Paris time for French dates)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def process_end(
    offer_status: str, closed_at: datetime | None, deadline: date | None, zone: ZoneInfo
) -> datetime | None:
    """When recruitment for the offer ended, or None while it goes on."""
    ends: list[datetime] = []
    if offer_status == "closed" and closed_at is not None:
        ends.append(closed_at)
    if deadline is not None:
        # The deadline day ends at midnight in France.
        ends.append(datetime.combine(deadline + timedelta(days=1), time(), zone).astimezone(UTC))
    return min(ends) if ends else None


def _months_later(moment: datetime, months: int, zone: ZoneInfo) -> datetime:
    return add_months(moment.astimezone(zone), months).astimezone(UTC)


def retention_until(
    *,
    keep_for_future_offers: bool,
    last_candidate_action_at: datetime,
    offer_status: str,
    offer_closed_at: datetime | None,
    offer_deadline: date | None,
    zone: ZoneInfo,
    final_status_at: datetime | None = None,
) -> datetime:
    longest = _months_later(last_candidate_action_at, KEEP_MONTHS_WITH_CONSENT, zone)
    if keep_for_future_offers:
        return longest
    ends = [
        end
        for end in (
            process_end(offer_status, offer_closed_at, offer_deadline, zone),
            final_status_at,
        )
        if end is not None
    ]
    if not ends:
        return longest
    return min(longest, _months_later(min(ends), KEEP_MONTHS_AFTER_PROCESS, zone))
