"""The fast path for plain addresses must agree with email-validator, which it skips."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, EmailStr, ValidationError

from app.core.email import EmailAddress, _plain


class ByLibrary(BaseModel):
    address: EmailStr


class Ours(BaseModel):
    address: EmailAddress


def by_library(value: str) -> str | None:
    try:
        return ByLibrary(address=value).address
    except ValidationError:
        return None


# Near-addresses: the characters that decide between valid and invalid.
_NEAR_ADDRESS = st.text(alphabet="abcXY09.-_+@é ", min_size=1, max_size=30)
_DOMAIN_LABEL = st.from_regex(r"[A-Za-z0-9-]{1,12}", fullmatch=True)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.emails(), _NEAR_ADDRESS, st.builds(
    lambda local, labels: f"{local}@{'.'.join(labels)}",
    st.from_regex(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,70}", fullmatch=True),
    st.lists(_DOMAIN_LABEL, min_size=1, max_size=4),
)))  # fmt: skip
def test_fast_path_agrees_with_the_library(value: str) -> None:
    fast = _plain(value)
    if fast is not None:
        assert fast == by_library(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Recrutement@Mairie-Lyon.FR", "Recrutement@mairie-lyon.fr"),
        ("rh+offre-12@emmaus-france.org", "rh+offre-12@emmaus-france.org"),
        (" rh@croix-rouge.fr ", "rh@croix-rouge.fr"),  # trimmed, by the library
        ("Service RH <rh@ademe.fr>", "rh@ademe.fr"),  # a display name, by the library
        ("a@xn--bcher-kva.de", "a@bücher.de"),  # IDNA, by the library
        ("élise@associations.gouv.fr", "élise@associations.gouv.fr"),  # Unicode, by the library
    ],
)
def test_accepted_as_the_library_gives_them(value: str, expected: str) -> None:
    assert Ours(address=value).address == expected == by_library(value)


@pytest.mark.parametrize(
    "value",
    ["rh@localhost", "rh@mairie.local", "rh@exemple.test", "rh@ex--ample.fr", "a..b@x.fr",
     ".a@x.fr", "a@-x.fr", "a@x.123", "a@x", "@x.fr", "a@"],
)  # fmt: skip
def test_refused_with_the_library_s_message(value: str) -> None:
    with pytest.raises(ValidationError) as ours:
        Ours(address=value)
    with pytest.raises(ValidationError) as library:
        ByLibrary(address=value)
    assert ours.value.errors()[0]["msg"] == library.value.errors()[0]["msg"]
