"""What stands before a password is hashed: the per-account throttle (the per-address one is
the rate-limit middleware's), the account's lockout, and the bounded hashing queue; and
what stands before a mail is queued on request, the recipient's quota."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse

from app.candidates.lockout import Policy
from app.candidates.mail_quota import MailQuota
from app.candidates.passwords import PasswordHashing
from app.core.config import Settings
from app.core.rate_limit import TooManyRequests
from app.core.throttle import Counters


@dataclass(frozen=True, slots=True)
class Guard:
    counters: Counters
    per_account: RateLimitItem | None
    hashing: PasswordHashing
    lockout: Policy
    min_strength: int
    mail_quota: MailQuota

    @classmethod
    def from_settings(cls, settings: Settings) -> "Guard":
        limit = settings.rate_limit_sign_in_account.strip()
        counters = Counters(settings.rate_limit_storage_url)
        return cls(
            counters=counters,
            per_account=parse(limit) if limit else None,
            hashing=PasswordHashing(settings.password_hash_threads, settings.password_hash_queue),
            lockout=Policy(
                failures=settings.sign_in_lockout_failures,
                first=timedelta(seconds=settings.sign_in_lockout_seconds),
                longest=timedelta(seconds=settings.sign_in_lockout_max_seconds),
            ),
            min_strength=settings.password_min_strength,
            mail_quota=MailQuota.parse(counters, settings.mail_quota_per_address),
        )

    async def throttle(self, canonical_email: str) -> None:
        """Count an attempt on this account, whoever makes it; 429 past the limit."""
        if self.per_account is None:
            return
        # A digest, not the address: the counters' store (Redis) holds no personal data.
        account = hashlib.sha256(canonical_email.encode()).hexdigest()
        wait = await self.counters.hit(self.per_account, "sign-in-account", account)
        if wait is not None:
            limit = self.per_account
            raise TooManyRequests(
                f"Too many attempts for this account: at most {limit.amount} per "
                f"{limit.multiples} {limit.GRANULARITY.name}. Retry in {wait} s.",
                headers={"Retry-After": str(wait)},
            )


def sign_in_guard(request: Request) -> Guard:
    guard: Guard = request.app.state.sign_in_guard
    return guard


GuardDep = Annotated[Guard, Depends(sign_in_guard)]
