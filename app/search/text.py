"""French text as the search index sees it: lower case, no accents, inclusive writing
folded to its plain forms, stop words dropped.

Both engines index the output of :func:`analyse` and search with the output of
:func:`analyse` on the query, so they agree on what a word is. Stemming comes after:
PostgreSQL's `french_stem` dictionary on one side and the same Snowball algorithm in
:mod:`app.search.stemming` on the other. Neither engine knows inclusive writing
(« chargé·e », « animateur·ice »), hence this module.
"""

import re
import unicodedata
from functools import lru_cache

# PostgreSQL's french.stop (the Snowball project's list), without accents since accents are
# gone by the time a word is looked up; kept here so that SQLite drops the same words.
STOP_WORDS = frozenset(
    """
    au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me meme
    mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes
    toi ton tu un une vos votre vous c d j l a m n s t y ete etee etees etes etant etante
    etants etantes suis es est sommes etes sont serai seras sera serons serez seront serais
    serait serions seriez seraient etais etait etions etiez etaient fus fut fumes futes
    furent sois soit soyons soyez soient fusse fusses fut fussions fussiez fussent ayant
    ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez
    auront aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eumes
    eutes eurent aie aies ait ayons ayez aient eusse eusses eut eussions eussiez eussent
    """.split()  # noqa: SIM905 (a list of 155 quoted words reads worse)
)

# Letters that NFKD does not split into a base letter and an accent.
_LIGATURES = (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("ø", "o"), ("đ", "d"), ("ł", "l"))


def _split_ligatures(text: str) -> str:
    # str.replace, not str.translate: translate with a dict costs ~0.2 µs a character.
    for letter, letters in _LIGATURES:
        if letter in text:
            text = text.replace(letter, letters)
    return text


_WORD = re.compile(r"[a-z0-9]+")
# The accents NFKD splits off French (and other Latin) letters.
_COMBINING_ACCENTS = re.compile("[\u0300-\u036f]")

# The separators of écriture inclusive: middle dot and its look-alikes, and the full stop.
_SEPARATOR = "[·•⋅∙‧.]"
_LETTERS = r"[^\W\d_]"
_INCLUSIVE = re.compile(
    rf"(?<!{_LETTERS})(?P<masculine>{_LETTERS}{{2,}})"
    rf"(?:{_SEPARATOR}(?P<suffix>{_LETTERS}{{1,5}})(?:{_SEPARATOR}(?P<plural>[sx]))?"
    rf"|\((?P<bracketed>{_LETTERS}{{1,5}})\)(?P<bracketed_plural>[sx])?)"
    rf"(?!{_LETTERS})"
)
# Endings that only ever follow a separator as a feminine mark; anything else after a dot
# (« www.exemple.org », « fin.Début ») is left alone.
_FEMININE_SUFFIXES = frozenset(
    {"e", "es", "fe", "fes", "ne", "nes", "le", "les", "te", "tes", "se", "ses", "ve", "ves", "ice",
     "ices", "rice", "rices", "trice", "euse", "ère", "ere", "ive", "ives"}
)  # fmt: skip


def unaccent(text: str) -> str:
    return _strip_accents(_split_ligatures(text.lower()))


def _strip_accents(text: str) -> str:
    """Lower case, accents off; what is still not ASCII (other scripts, symbols) becomes
    `?`, a separator, since the index keeps [a-z0-9] words only. C-level passes only:
    this runs over every offer's text on each write."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = _COMBINING_ACCENTS.sub("", decomposed)
    return bare.encode("ascii", "replace").decode("ascii")


@lru_cache(maxsize=65536)
def _indexed_form(word: str) -> str | None:
    """The word as indexed, or None for a stop word. Feminine « -ée(s) » folds to
    masculine « -é »: without accents, the stemmer would keep « chargee » apart from
    « charge ». Cached: a vocabulary is small, and this runs for every word written."""
    if word.endswith("ees"):
        word = word[:-2]
    elif word.endswith("ee"):
        word = word[:-1]
    return None if word in STOP_WORDS else word


def _feminine(masculine: str, suffix: str) -> str:
    if suffix in {"ice", "rice", "trice"} and masculine.endswith("eur"):
        return masculine[:-3] + "rice"  # animateur·ice → animatrice
    if suffix == "euse" and masculine.endswith("eur"):
        return masculine[:-3] + "euse"  # vendeur·euse → vendeuse
    if suffix == "se" and masculine.endswith("eux"):
        return masculine[:-1] + "se"  # heureux·se → heureuse
    if suffix in {"ve", "ive"} and masculine.endswith("f"):
        return masculine[:-1] + "ve"  # sportif·ve → sportive
    if suffix in {"ère", "ere"} and masculine.endswith("er"):
        return masculine[:-2] + "ère"  # conseiller·ère → conseillère
    return masculine + suffix  # chargé·e, citoyen·ne, professionnel·le


def _plain_words(text: str) -> list[tuple[str, ...]]:
    # Lower case and ligatures were dealt with once, for the whole text, in _analyse.
    words = map(_indexed_form, _WORD.findall(_strip_accents(text)))
    return [(word,) for word in words if word is not None]


def _inclusive_words(match: re.Match[str]) -> list[tuple[str, ...]]:
    masculine = match["masculine"]
    suffix = match["suffix"] or match["bracketed"]
    plural = match["plural"] or match["bracketed_plural"]
    if suffix not in _FEMININE_SUFFIXES:
        return _plain_words(match[0])
    if suffix.endswith("s") and suffix != "s":
        suffix, plural = suffix[:-1], "s"
    forms = [masculine, _feminine(masculine, suffix)]
    if plural:
        forms = [form if form.endswith(("s", "x")) else form + plural for form in forms]
    words = [word for form in forms for (word,) in _plain_words(form)]
    alternatives = tuple(dict.fromkeys(words))
    return [alternatives] if alternatives else []


@lru_cache(maxsize=4096)
def _analyse(text: str) -> tuple[tuple[str, ...], ...]:
    text = _split_ligatures(unicodedata.normalize("NFC", text).lower())
    groups: list[tuple[str, ...]] = []
    position = 0
    for match in _INCLUSIVE.finditer(text):
        groups += _plain_words(text[position : match.start()])
        groups += _inclusive_words(match)
        position = match.end()
    groups += _plain_words(text[position:])
    return tuple(groups)


def analyse(text: str) -> tuple[tuple[str, ...], ...]:
    """The words of ``text`` in order, each as its alternatives: one word for plain text,
    the masculine and feminine forms for inclusive writing (« animateur·ice » gives
    ``("animateur", "animatrice")``). Short texts only are cached: queries repeat."""
    if len(text) > 200:
        return _analyse.__wrapped__(text)
    return _analyse(text)


def document(text: str | None) -> str:
    """What the index stores for a text: every alternative of every word."""
    if not text:
        return ""
    return " ".join(word for group in analyse(text) for word in group)
