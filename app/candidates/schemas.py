"""What the mailed flows of an account take and answer: sign-up's answer, the proof of an
address, a password reset and a change of address."""

from typing import Literal

from pydantic import BaseModel, Field

from app.core.email import CanonicalEmailAddress

# As sign-up's: longer input cannot be a valid password, and is not hashed.
_PASSWORD_MAX = 200
# An e-mailed token is 43 characters; anything much longer is not one of ours.
_TOKEN_MAX = 200


class CheckYourEmail(BaseModel):
    """The one answer of a request whose outcome only the address's owner may learn."""

    status: Literal["check_your_email"] = "check_your_email"
    detail: str = Field(
        default="An e-mail is on its way to this address: follow its link.",
        description="Always the same: whether the address has an account is told only in "
        "the e-mail, to its owner.",
    )


class ProveAddress(BaseModel):
    token: str = Field(min_length=1, max_length=_TOKEN_MAX, description="From the link.")
    password: str = Field(
        min_length=1,
        max_length=_PASSWORD_MAX,
        description="The account's password (chosen at sign-up). Asked so that a link "
        "alone never ties an address to an account whose password its owner does not know: "
        "someone who signs up with another person's address cannot get it proven by that "
        "person's click.",
    )


class PasswordResetRequest(BaseModel):
    email: CanonicalEmailAddress


class NewPassword(BaseModel):
    token: str = Field(min_length=1, max_length=_TOKEN_MAX, description="From the link.")
    password: str = Field(
        min_length=10,
        max_length=_PASSWORD_MAX,
        description="The new password: at least 10 characters and hard enough to guess, as "
        "at sign-up (422 with the reason otherwise).",
    )


class EmailChangeRequest(BaseModel):
    new_email: CanonicalEmailAddress
    password: str = Field(
        min_length=1, max_length=_PASSWORD_MAX, description="The account's current password."
    )
