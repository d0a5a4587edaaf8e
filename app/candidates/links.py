"""The links that candidates' accounts e-mail: what each is for, how long it works, and
where it points (a page that changes nothing until its button is pressed)."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request

from app.core.urls import public_base

# Purposes of app.core.email_tokens: a token of one never opens another's page.
VERIFY = "candidate_verify"
RESET = "candidate_password_reset"
EMAIL_CHANGE = "candidate_email_change"

# The 24 hours for the proof of an address. A reset link opens the account to
# whoever holds it, so it lives as long as it takes to read one's mail, and no longer.
VERIFY_LIFETIME = timedelta(hours=24)
RESET_LIFETIME = timedelta(hours=1)
EMAIL_CHANGE_LIFETIME = timedelta(hours=24)

VERIFY_PATH = "/v1/candidates/verify"
RESET_PATH = "/v1/candidates/password-reset/confirm"
EMAIL_CHANGE_PATH = "/v1/candidates/email-change/confirm"


@dataclass(frozen=True, slots=True)
class Links:
    """Absolute URLs, made while the request is at hand: the mail is rendered later, by
    the outbox, where no request tells the public base."""

    base: str

    def to(self, path: str, token: str | None = None) -> str:
        query = f"?{urlencode({'token': token})}" if token else ""
        return f"{self.base}{path}{query}"

    def verify(self, token: str) -> str:
        return self.to(VERIFY_PATH, token)

    def reset(self, token: str) -> str:
        return self.to(RESET_PATH, token)

    def email_change(self, token: str) -> str:
        return self.to(EMAIL_CHANGE_PATH, token)


def links(request: Request) -> Links:
    return Links(public_base(request))


LinksDep = Annotated[Links, Depends(links)]


def password_stamp(password_hash: str) -> str:
    """A reset link is bound to the password it replaces: once the password changes (by
    this link or any other way), every link sent before it stops working."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]
