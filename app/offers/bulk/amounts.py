"""Numbers as a French spreadsheet writes them: « 2 600,50 € », « 3,90 », « 10h30 ».

Each function gives the number as the model reads it (« 2600.50 »), or the text as it is
when it is written some other way: the row's check then refuses it, naming the field.
Nothing is rounded: « 10h20 » is 10.333…, which the model refuses for its decimals.
"""

import re
from decimal import Decimal

# Digits in groups of three split by a space (plain, no-break U+00A0 or narrow no-break
# U+202F, as spreadsheets write them), or not split; a decimal comma or point.
_NUMBER = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[,.](\d+))?")
_CURRENCY = re.compile(r"[ \u00a0\u202f]*(?:€|eur)$", re.IGNORECASE)
_HOURS = re.compile(r"(\d{1,2}) ?h ?(\d{2})?", re.IGNORECASE)


def _number(text: str) -> str | None:
    found = _NUMBER.fullmatch(text)
    if found is None:
        return None
    whole, decimals = found.groups()
    digits = "".join(char for char in whole if char.isdigit())
    return digits if decimals is None else f"{digits}.{decimals}"


def euros(text: str) -> str:
    """« 2 600 € », « 2 600,50 EUR », « 3,90 » as « 2600 », « 2600.50 », « 3.90 »."""
    return _number(_CURRENCY.sub("", text.strip())) or text


def hours(text: str) -> str:
    """« 10h30 » as « 10.5 », « 35h » as « 35 », « 17,5 » as « 17.5 »."""
    found = _HOURS.fullmatch(text.strip())
    if found is None:
        return _number(text.strip()) or text
    whole, minutes = found.groups()
    if minutes is None:
        return whole
    if int(minutes) >= 60:
        return text
    return str(Decimal(whole) + Decimal(minutes) / 60)
