"""How many e-mails one address may be sent on request, from anyone: sign-up's, reset's,
an address change's and a verification asked again. The per-client and per-account limits
answer 429 and stop one client; rotating client addresses gets past them, so the mails
themselves are counted, per recipient (``VOCATION_MAIL_QUOTA_PER_ADDRESS``).

Past the quota the request is answered as any other, and no mail is queued: a refusal
would tell the asker what the mailbox was sent. The counters are the rate limits' (same
store, keyed by the address's SHA-256: Redis holds no address)."""

import hashlib
import logging
from dataclasses import dataclass

from limits import RateLimitItem, parse

from app.core.throttle import Counters

log = logging.getLogger("vocation.mail_quota")


@dataclass(frozen=True, slots=True)
class MailQuota:
    counters: Counters
    limit: RateLimitItem | None

    @classmethod
    def parse(cls, counters: Counters, setting: str) -> "MailQuota":
        """``setting`` as ``limits`` writes them (``3/hour``); empty turns the quota off."""
        text = setting.strip()
        return cls(counters, parse(text) if text else None)

    async def allows(self, canonical_email: str) -> bool:
        """Count one mail to this address; False, and not counted, past the quota."""
        if self.limit is None:
            return True
        recipient = hashlib.sha256(canonical_email.encode()).hexdigest()
        if await self.counters.hit(self.limit, "mail-quota", recipient) is None:
            return True
        # The digest only: the log holds no address either.
        log.info("mail quota reached for %s…; no mail queued", recipient[:12])
        return False
