"""When to try again: 5 s, 15 s, 45 s… tripling up to a day, then the message fails."""

import random
from datetime import timedelta

FIRST_DELAY_SECONDS = 5
LONGEST_DELAY_SECONDS = 24 * 3600


def delay_after(attempts: int) -> timedelta | None:
    """The wait before the next try, after ``attempts`` failed ones; None once the last
    wait, a day, has been waited and failed too."""
    seconds = FIRST_DELAY_SECONDS * 3 ** (attempts - 1)
    if seconds > 3 * LONGEST_DELAY_SECONDS:
        return None
    # A tenth of jitter, so that messages failed together do not all come back together.
    jittered = min(seconds, LONGEST_DELAY_SECONDS) * random.uniform(0.9, 1.1)  # noqa: S311
    return timedelta(seconds=jittered)


def schedule() -> list[float]:
    """Every wait, in seconds, without jitter (the docs and the tests)."""
    waits = []
    attempts = 1
    while (seconds := FIRST_DELAY_SECONDS * 3 ** (attempts - 1)) <= 3 * LONGEST_DELAY_SECONDS:
        waits.append(float(min(seconds, LONGEST_DELAY_SECONDS)))
        attempts += 1
    return waits
