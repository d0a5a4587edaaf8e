"""E-mail addresses, as pydantic's `EmailStr` checks them (email-validator), with a fast
path for plain addresses.

email-validator spends about 80 µs on an address, most of it checking the domain
character by character against IDNA's tables. A 10,000-offer upload carries thousands of
addresses, nearly all plain ASCII (« recrutement@mairie-lyon.fr »), for which that work
cannot change the answer. Those are accepted here, in the form the library would return
(domain in lower case); anything else (Unicode, quoting, « Name <address> », special-use
domains, odd hyphens) goes to the library itself. tests/core/test_email.py checks the fast
path against the library.
"""

import re
import unicodedata
from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic.networks import validate_email

# RFC 5322 dot-atom local part; LDH domain labels ending in a letters-only top-level domain.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}")
_LOCAL_MAX = 64
_ADDRESS_MAX = 254
_SPECIAL_SUFFIXES = tuple("." + name for name in SPECIAL_USE_DOMAIN_NAMES)


def _plain(value: str) -> str | None:
    if len(value) > _ADDRESS_MAX or not _PLAIN_ADDRESS.fullmatch(value):
        return None
    local, _, domain = value.rpartition("@")
    domain = domain.lower()
    # « -- » may be an IDNA label (« xn-- ») or a reserved one: the library decides.
    if len(local) > _LOCAL_MAX or "--" in domain:
        return None
    if domain in SPECIAL_USE_DOMAIN_NAMES or domain.endswith(_SPECIAL_SUFFIXES):
        return None
    return f"{local}@{domain}"


def normalised_email(value: str) -> str:
    """The address as `EmailStr` would give it; the same errors for what it refuses."""
    return _plain(value) or validate_email(value)[1]


EmailAddress = Annotated[
    str,
    # Before the validator, so that pydantic-core checks the length itself.
    Field(max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(normalised_email),
]
"""An e-mail address: checked by email-validator, without DNS lookups."""


def canonical_email(value: str) -> str:
    """One spelling per address, to compare addresses (accounts, sign-in, the duplicate
    check of applications): compatibility forms folded (NFKC: « ｃａ » is « ca »), then
    case (casefold). « +tag » is kept: it may name another mailbox."""
    return unicodedata.normalize("NFKC", value.strip()).casefold()


def _canonical_input(value: object) -> object:
    return canonical_email(value) if isinstance(value, str) else value


CanonicalEmailAddress = Annotated[
    EmailAddress,
    # Folded before the check, so that the checked address is the one stored.
    BeforeValidator(_canonical_input),
]
"""An e-mail address of a person (candidate, applicant), in its canonical form."""


def account_email(value: str) -> str:
    """The address as an account stores it (canonical, then as email-validator writes it: an
    IDNA domain in Unicode), so that signing in with what was typed at sign-up finds it."""
    canonical = canonical_email(value)
    try:
        return normalised_email(canonical)
    except ValueError:
        return canonical
