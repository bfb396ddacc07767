"""Properties of re-anchoring over random texts and random edits.

An edit replaces ``old[a:b]`` (``a == b`` for an insertion). It *touches* a span
``[start, end)`` when the closed intervals ``[a, b]`` and ``[start, end]`` meet: an edit
overlapping the span, or adjacent to it, or an insertion exactly at one of its ends.
Those are ambiguous from the two texts alone ("Kim" + inserted "berly" is also "Kim"
edited), so only spans no edit touches must keep their text.

Two texts tell the shortest story of their change, so the edits drawn must be one: when
a cheaper explanation exists ("KK" deleted and "aK" inserted elsewhere in "KKKK...", or
one "K" replaced), it may well run through the span, and no diff can know otherwise.
And where the text is repetitive several shortest stories move a span differently
("aaaa" -> "aaa": which "a" went?), so a placement away from the expected offsets passes
if it is one of them: the indel distance of the texts before it plus that of the texts
after it is no more than the size of the edits.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from service.anchoring import FUZZY_THRESHOLD, Span, _indel, reanchor

# Small enough to repeat (names recur in news), with non-ASCII, typographic quotes,
# astral emoji, a skin-tone modifier and a zero-width joiner.
ALPHABET = "ab Kim.\n’“é中👍🏽\u200d👩"
chars = st.sampled_from(ALPHABET)


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    insert: str

    def touches(self, span: Span) -> bool:
        return self.start <= span.end and self.end >= span.start


@dataclass(frozen=True)
class Case:
    old: str
    new: str
    edits: list[Edit]
    spans: list[Span]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    old = draw(st.text(chars, min_size=20, max_size=80))
    starts = sorted(draw(st.sets(st.integers(0, len(old)), min_size=1, max_size=3)))
    edits = []
    for a, b in zip(starts, [*starts[1:], len(old)], strict=True):
        edit = Edit(a, min(a + draw(st.integers(0, 4)), b), draw(st.text(chars, max_size=6)))
        if edit.end > edit.start or edit.insert:
            edits.append(edit)
    new, at = [], 0
    for edit in edits:
        new += [old[at : edit.start], edit.insert]
        at = edit.end
    new.append(old[at:])
    bounds = st.tuples(st.integers(0, len(old) - 1), st.integers(1, 12))
    spans = [
        Span(s, min(len(old), s + n), old[s : min(len(old), s + n)])
        for s, n in draw(st.lists(bounds, min_size=1, max_size=8))
    ]
    return Case(old, "".join(new), edits, spans)


def indel(a: str, b: str) -> int:
    """Insertions plus deletions turning ``a`` into ``b`` (via the longest common subsequence)."""
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal, row[0] = 0, 0
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], diagonal + 1 if x == y else max(row[j], row[j - 1])
    return len(a) + len(b) - 2 * row[-1]


@settings(max_examples=200, deadline=None)
@given(cases())
@example(  # a diff far from the cheapest story: the span's copy is 10 from the expected
    Case(
        old="K..KKKKKKKKKKKKKKKKKK",
        new="K.KKKKKKKKK...KKKKKKKKK",
        edits=[Edit(0, 3, "K."), Edit(12, 12, "...")],
        spans=[Span(4, 5, "K")],
    )
)
def test_untouched_spans_keep_their_text_where_it_moved(case: Case) -> None:
    size = sum(indel(case.old[e.start : e.end], e.insert) for e in case.edits)
    assume(indel(case.old, case.new) == size)
    untouched = [s for s in case.spans if not any(e.touches(s) for e in case.edits)]
    event(f"untouched spans: {min(len(untouched), 2)}")
    placements = reanchor(case.old, case.new, untouched)
    for span, placed in zip(untouched, placements, strict=True):
        shift = sum(len(e.insert) - (e.end - e.start) for e in case.edits if e.end < span.start)
        assert placed.text == span.text == case.new[placed.start : placed.end]
        assert placed.status == ("exact" if placed.start == span.start else "shifted")
        if placed.start != span.start + shift:
            event("an equally cheap explanation moved the span")
            cost = indel(case.old[: span.start], case.new[: placed.start])
            cost += indel(case.old[span.end :], case.new[placed.end :])
            assert cost <= size


@settings(max_examples=200, deadline=None)
@given(cases())
def test_every_placement_is_well_formed(case: Case) -> None:
    for span, placed in zip(case.spans, reanchor(case.old, case.new, case.spans), strict=True):
        assert 0.0 <= placed.similarity <= 1.0
        if placed.status == "orphaned":
            assert (placed.start, placed.end, placed.text) == (span.start, span.end, span.text)
            assert placed.similarity < FUZZY_THRESHOLD
        else:
            assert 0 <= placed.start < placed.end <= len(case.new)
            assert placed.text == case.new[placed.start : placed.end]
            changed = placed.similarity < 1.0 or placed.text != span.text
            assert (placed.status == "fuzzy") == changed


@given(st.text(chars, max_size=70), st.text(chars, max_size=70))
def test_the_bit_parallel_indel_distance_matches_the_dynamic_programme(a: str, b: str) -> None:
    assert _indel(a, b) == indel(a, b)
