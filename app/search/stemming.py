"""Snowball's French stemmer, for SQLite: PostgreSQL runs the same algorithm itself
(`french_stem`), so both engines reduce « projets » and « projet » to one stem."""

from functools import lru_cache

import snowballstemmer  # type: ignore[import-untyped]

_FRENCH = snowballstemmer.stemmer("french")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    # PostgreSQL's french configuration sends words with digits to the `simple` dictionary.
    if not word.isalpha():
        return word
    return str(_FRENCH.stemWord(word))


def stemmed(document: str) -> str:
    return " ".join(stem(word) for word in document.split())
