from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from service.formats.units import OffsetError, OffsetMap

TEXT = "a😀é\u0301日 b"  # astral, combining mark, CJK


@pytest.mark.parametrize(
    ("unit", "boundaries"),
    [
        ("codepoint", [0, 1, 2, 3, 4, 5, 6, 7]),
        ("utf16", [0, 1, 3, 4, 5, 6, 7, 8]),
        ("utf8", [0, 1, 5, 7, 9, 12, 13, 14]),
    ],
)
def test_offsets_convert_both_ways(unit, boundaries):
    offsets = OffsetMap(TEXT, unit)
    assert [offsets.from_codepoint(i) for i in range(len(TEXT) + 1)] == boundaries
    assert [offsets.to_codepoint(b) for b in boundaries] == list(range(len(TEXT) + 1))


@pytest.mark.parametrize(("unit", "offset"), [("utf16", 2), ("utf8", 3), ("utf8", 10)])
def test_offsets_inside_a_character_are_refused(unit, offset):
    with pytest.raises(OffsetError, match="inside a character"):
        OffsetMap(TEXT, unit).to_codepoint(offset)


def test_ascii_and_bmp_texts_need_no_table():
    assert OffsetMap("plain", "utf8").boundaries is None
    assert OffsetMap("Zoë", "utf16").boundaries is None


def test_utf16_agrees_with_javascript():
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    text = "Kim 😀 met 👍🏽 Putin — “yes” 𝔘"
    script = (
        "const t = JSON.parse(process.argv[1]); "
        "console.log(JSON.stringify([t.length, t.indexOf('Putin')]))"
    )
    length, putin = json.loads(
        subprocess.run(
            [node, "-e", script, json.dumps(text)], capture_output=True, text=True, check=True
        ).stdout
    )
    offsets = OffsetMap(text, "utf16")
    assert offsets.from_codepoint(len(text)) == length
    assert offsets.from_codepoint(text.index("Putin")) == putin


def test_utf8_agrees_with_python_bytes():
    text = "Kim 😀 met é"
    offsets = OffsetMap(text, "utf8")
    assert offsets.from_codepoint(len(text)) == len(text.encode())
    assert offsets.from_codepoint(text.index("met")) == text.encode().index(b"met")
