"""Constrained scalar types shared by every request schema.

Every string that reaches the database goes through one of these: bounded, trimmed, and
free of the control characters (NUL first) that PostgreSQL refuses and logs mangle.

The checks are constraints that pydantic-core runs in Rust (a ``pattern`` rather than a
Python validator): a 10,000-offer upload checks some 300,000 strings, and a Python call
per string was a third of the time. A pattern's own message would show the regular
expression, so each of these patterns registers the message a user reads instead
(``message_of``, used wherever validation errors are reported).
"""

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# No control character at all in one line; tabs and line breaks allowed in a long text.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def _line_message(value: Any) -> str:
    if isinstance(value, str) and _CONTROL.search(value):
        return "must not contain control characters"
    return "must be a single line"


_PATTERN_MESSAGES: dict[str, Callable[[Any], str]] = {
    LINE_PATTERN: _line_message,
    TEXT_PATTERN: lambda _value: "must not contain control characters",
}


def register_pattern_message(pattern: str, message: str) -> str:
    """Say ``message`` when a value does not match ``pattern``; returns the pattern."""
    _PATTERN_MESSAGES[pattern] = lambda _value: message
    return pattern


# FastAPI's own validators word some refusals for Python programmers ("Expected
# UploadFile, received: <class 'str'>"); a client reads plain words instead.
_PYTHON_TYPE = re.compile(r"<class '[^']*'>")
_UPLOAD_EXPECTED = "Expected UploadFile"


def message_of(error: Mapping[str, Any]) -> str:
    """The plain-words message of one of pydantic's errors (an item of ``errors()``)."""
    if error.get("type") == "string_pattern_mismatch":
        pattern = (error.get("ctx") or {}).get("pattern")
        explain = _PATTERN_MESSAGES.get(pattern) if isinstance(pattern, str) else None
        if explain is not None:
            return explain(error.get("input"))
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if message.startswith(_UPLOAD_EXPECTED):
        return "must be a file"
    if _PYTHON_TYPE.search(message):
        return "has the wrong type"
    return message


Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=LINE_PATTERN),
]
"""A one-line text: a title, a name, a city."""

Statement = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000, pattern=LINE_PATTERN),
]
"""A one-line text that may run long: a salary statement with its bonus scheme."""

LongText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000, pattern=TEXT_PATTERN),
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

Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=30,
        pattern=register_pattern_message(
            r"^\+?[0-9][0-9 .()-]{5,28}$", "must be a phone number (digits, spaces, + . - ( ))"
        ),
    ),
    Field(examples=["01 23 45 67 89", "+33 1 23 45 67 89"]),
]

ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=LINE_PATTERN),
]
"""A few words: a benefit, a document to send."""


def exact_decimal(places: int, least: float, most: float) -> BeforeValidator:
    """A number with at most ``places`` decimal places, between ``least`` and ``most``:
    read exactly (through Decimal, so 3.905 is refused rather than rounded), and held as
    a JSON number, whole values as integers (2600, not 2600.0). With ``number_schema``."""
    checked = TypeAdapter(
        Annotated[
            Decimal,
            Field(
                ge=Decimal(str(least)),
                le=Decimal(str(most)),
                decimal_places=places,
                allow_inf_nan=False,
            ),
        ]
    )

    def number(value: Any) -> int | float:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            amount = checked.validate_python(value)
        except ValidationError as error:
            first = error.errors()[0]
            if first["type"] in {"decimal_parsing", "decimal_type", "finite_number"}:
                raise ValueError("must be a number") from None
            raise ValueError(message_of(first)) from None
        return int(amount) if amount == amount.to_integral_value() else float(amount)

    return BeforeValidator(number)


def number_schema(least: float, most: float) -> WithJsonSchema:
    """A plain JSON number in the spec, for ``exact_decimal`` (not pydantic's Decimal,
    which it describes as a number or a string)."""
    return WithJsonSchema({"type": "number", "minimum": least, "maximum": most})
