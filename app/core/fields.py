"""Constrained scalar types shared by every request schema.

Every string that reaches the database goes through one of these: bounded, trimmed, and
free of the control characters (NUL first) that PostgreSQL refuses and logs mangle.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\t]")


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _single_line(value: str) -> str:
    if _LINE_BREAKS.search(value):
        raise ValueError("must be a single line")
    return value


Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_control_characters),
    AfterValidator(_single_line),
]
"""A one-line text: a title, a name, a city."""

LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
    AfterValidator(_no_control_characters),
]
"""A multi-line markdown text such as a description."""

Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=80, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
Reference = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$"
    ),
]
# An organisation is named by its UUID or its slug: letters, digits and hyphens either way.
ID_OR_SLUG_PATTERN = r"^[A-Za-z0-9-]+$"

Postcode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
CountryCode = Annotated[
    str, StringConstraints(to_upper=True, pattern=r"^[A-Za-z]{2}$"), Field(examples=["FR"])
]
LanguageCode = Annotated[
    str, StringConstraints(to_lower=True, pattern=r"^[A-Za-z]{2}$"), Field(examples=["fr"])
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://[^\s\x00-\x1f]+$"),
]
