"""Reading a JSON array of offers item by item as text (formats._JsonArray): every
way of writing the same array gives the same items, whatever the reads' boundaries."""

import io
import json
from typing import Any

import pytest

from app.offers.bulk import formats
from app.offers.bulk.formats import Unreadable, UploadUnreadable, _JsonArray, json_value

QUOTES_EXPECTED = "Expecting property name enclosed in double quotes"
ITEMS: list[dict[str, Any]] = [
    {"reference": "R-1", "title": "Chargée de mission « climat »", "n": 1},
    # What the cut looks for, inside strings: "}," and "}]", escaped quotes, a backslash.
    {"reference": "R-2", "description": 'voir {lien}, puis {"a": 1}] et \\"} , \\\\', "n": 2},
    {"reference": "R-3", "description": "Écrire à l’équipe 🌱 " * 40, "list": [1, {"x": 2}]},
    {"reference": "R-4", "nested": {"a": {"b": "}"}}, "after": "}]"},
]


def read(body: bytes, read_size: int = 1024 * 1024) -> list[Any]:
    """Each item's text, parsed: it must be exactly one JSON object."""
    return [
        json.loads(item) if isinstance(item, bytes) else item
        for item in _JsonArray(io.BytesIO(body), read_size)
    ]


@pytest.mark.parametrize("read_size", [1, 7, 64, 1024 * 1024])
@pytest.mark.parametrize(
    "encode",
    [
        lambda items: json.dumps(items, ensure_ascii=False),
        lambda items: json.dumps(items),
        lambda items: json.dumps(items, ensure_ascii=False, indent=2),
        lambda items: "\ufeff \r\n[ " + " ,\n\t".join(json.dumps(item) for item in items) + " ]\n",
    ],
    ids=["compact", "ascii", "indented", "bom-and-odd-spacing"],
)
def test_every_way_of_writing_the_array_gives_the_same_items(encode: Any, read_size: int) -> None:
    assert read(encode(ITEMS).encode(), read_size) == ITEMS


def test_a_flat_object_is_cut_without_the_parser_and_anything_else_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[int] = []
    exact_item = _JsonArray._exact_item

    def counted(array: _JsonArray) -> Any:
        parsed.append(1)
        return exact_item(array)

    monkeypatch.setattr(_JsonArray, "_exact_item", counted)
    flat = {"reference": "R-1", "title": "Chargée « de » mission", "salary_min": 32000}
    assert read(json.dumps([flat, flat], indent=1).encode()) == [flat, flat]
    assert parsed == []
    assert read(json.dumps(ITEMS).encode()) == ITEMS
    assert len(parsed) == 3  # R-2 and R-4 hold braces; R-3 nests an object in a list


@pytest.mark.parametrize("body", [b"[]", b" [ ] ", b"\xef\xbb\xbf[]\n"])
def test_an_empty_array_has_no_items(body: bytes) -> None:
    assert read(body) == []


def test_items_that_are_not_objects_are_unreadable_rows() -> None:
    body = b'[1, "two", {"reference": "R-3"}, [4], null, 12345678901234567890]'
    assert read(body, read_size=3) == [
        Unreadable("each item must be an object"),
        Unreadable("each item must be an object"),
        {"reference": "R-3"},
        Unreadable("each item must be an object"),
        Unreadable("each item must be an object"),
        Unreadable("each item must be an object"),
    ]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"reference": "R-1"}', "must be a JSON array"),
        (b"", "must be a JSON array"),
        (b'[{"reference": "R-1"}', "ends before its closing"),
        (b'[{"reference": "R-1"}, ', "ends before its closing"),
        (b'[{"reference": "R-1"} {"reference": "R-2"}]', "expected ',' or ']'"),
        (b'[{"reference": "R-1"}] []', "follows its closing"),
        (b'[{"reference": "R-1"},]', "not a JSON array"),
    ],
)
def test_a_body_that_is_not_a_json_array_is_unreadable_as_a_whole(body: bytes, why: str) -> None:
    with pytest.raises(UploadUnreadable, match=why):
        read(body, read_size=5)


def test_a_broken_item_is_one_unreadable_row_when_its_extent_is_clear() -> None:
    body = b'[{"reference": "R-1",}, {"reference": "R-\xff"}, {"reference": "R-3"}]'
    items = list(_JsonArray(io.BytesIO(body), read_size=5))
    assert [json_value(item, formats.JSON) for item in items] == [  # type: ignore[arg-type]
        Unreadable(f"not JSON: {QUOTES_EXPECTED}: line 1 column 21 (char 20)"),
        Unreadable("not UTF-8"),
        {"reference": "R-3"},
    ]


def test_an_item_longer_than_the_limit_is_refused_without_reading_on() -> None:
    huge = {"reference": "R-1", "description": "x" * (formats.LONGEST_ITEM + 10)}
    with pytest.raises(UploadUnreadable, match="longer than"):
        read(json.dumps([huge, {"reference": "R-2"}]).encode(), read_size=64 * 1024)


def test_ndjson_lines_are_texts_and_blank_lines_are_not_rows() -> None:
    body = b'\xef\xbb\xbf{"reference": "R-1"}\n\n  \r\n[1]\n{"reference": "R-\xff"}\n{oops\n'
    items = list(formats.rows(io.BytesIO(body), formats.NDJSON))
    assert json.loads(items[0]) == {"reference": "R-1"}  # type: ignore[arg-type]
    assert [json_value(item, formats.NDJSON) for item in items[1:]] == [  # type: ignore[arg-type]
        Unreadable("each line must be an object"),
        Unreadable("not UTF-8"),
        Unreadable(f"not JSON: {QUOTES_EXPECTED}: line 1 column 2 (char 1)"),
    ]


@pytest.mark.parametrize("padding", range(4))
def test_items_read_by_the_parser_keep_their_accents_across_window_edges(padding: int) -> None:
    """Items that hold a backslash go through the standard library's parser, in windows
    whose edges fall inside « é » (two bytes) for one padding or another."""
    items = [
        {"reference": f"R-{number}", "description": "x" * padding + "é" * 3000 + " C:\\partage"}
        for number in range(12)
    ]
    assert read(json.dumps(items, ensure_ascii=False).encode(), read_size=4096) == items


def test_a_bad_byte_in_a_later_item_is_that_row_s_problem_only() -> None:
    body = b'[{"reference": "R-1", "d": "C:\\\\x"}, {"reference": "R-\xff"}]'
    items = list(_JsonArray(io.BytesIO(body)))
    assert json.loads(items[0]) == {"reference": "R-1", "d": "C:\\x"}  # type: ignore[arg-type]
    assert json_value(items[1], formats.JSON) == Unreadable("not UTF-8")  # type: ignore[arg-type]


@pytest.mark.parametrize("read_size", [1, 3, 1024 * 1024])
def test_numbers_are_items_that_are_not_objects_whatever_the_reads(read_size: int) -> None:
    body = b'[2.5, 1e5, -1.25e-3, {"reference": "R-1"}, 3]'
    not_an_object = Unreadable("each item must be an object")
    assert read(body, read_size) == [not_an_object] * 3 + [{"reference": "R-1"}, not_an_object]


def test_deeply_nested_json_is_refused_not_a_crash() -> None:
    deep = b'{"a": ' * 50_000 + b"1" + b"}" * 50_000
    with pytest.raises(UploadUnreadable, match="nested too deeply"):
        read(b"[" + deep + b"]")
    line = next(formats.rows(io.BytesIO(deep + b"\n"), formats.NDJSON))
    assert json_value(line, formats.NDJSON) == Unreadable("not JSON: nested too deeply")  # type: ignore[arg-type]
