"""Re-anchoring spans through a text correction: one behaviour per test."""

from __future__ import annotations

import itertools
import re

import pytest

from service import anchoring
from service.anchoring import FUZZY_THRESHOLD, Placement, Span, reanchor, similarity

LEDE = "North Korea has sent 3,000 troops to Russia, South Korea's spy agency said on Friday."
P1 = "Kim Jong Un met Vladimir Putin in Pyongyang, where Kim promised “full support”."
P2 = "Analysts in Seoul said the deployment was the largest since the alliance was signed."
P3 = "The Kremlin declined to comment, and Kim's office issued no statement on Saturday."


def span(text: str, quote: str, nth: int = 0) -> Span:
    """The ``nth`` occurrence of ``quote`` in ``text``."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(quote, at + 1)
    return Span(at, at + len(quote), quote)


def place(old: str, new: str, *spans: Span) -> list[Placement]:
    placements = reanchor(old, new, spans)
    for placed in placements:
        if placed.status != "orphaned":
            assert new[placed.start : placed.end] == placed.text
    return placements


def lands_on(placed: Placement, new: str, quote: str, nth: int = 0) -> bool:
    """Whether ``placed`` is ``quote``, unchanged, at its ``nth`` occurrence in ``new``."""
    at = span(new, quote, nth)
    return (placed.start, placed.end, placed.text, placed.similarity) == (
        at.start,
        at.end,
        quote,
        1.0,
    )


def test_identical_texts_leave_every_span_exact() -> None:
    spans = [span(LEDE, "North Korea"), span(LEDE, "3,000"), span(LEDE, "Russia")]
    assert reanchor(LEDE, LEDE, spans) == [
        Placement("exact", s.start, s.end, s.text, 1.0) for s in spans
    ]


def test_results_keep_the_input_order() -> None:
    new = "Breaking: " + LEDE
    spans = [span(LEDE, "Russia"), span(LEDE, "North Korea"), span(LEDE, "Friday")]
    assert [p.text for p in reanchor(LEDE, new, spans)] == ["Russia", "North Korea", "Friday"]


def test_an_insertion_before_a_span_shifts_it() -> None:
    new = LEDE.replace("has sent", "has reportedly sent")
    (troops,) = place(LEDE, new, span(LEDE, "3,000 troops"))
    assert troops.status == "shifted"
    assert lands_on(troops, new, "3,000 troops")
    assert troops.start == span(LEDE, "3,000 troops").start + len("reportedly ")


def test_an_insertion_after_a_span_leaves_it_exact() -> None:
    new = LEDE.replace("Russia,", "Russia and Belarus,")
    (korea,) = place(LEDE, new, span(LEDE, "North Korea"))
    assert korea == Placement("exact", 0, 11, "North Korea", 1.0)


@pytest.mark.parametrize(
    ("new", "status", "start"),
    [
        pytest.param(LEDE.replace("3,000", "about 3,000"), "shifted", 27, id="at-start"),
        pytest.param(LEDE.replace("3,000", "3,000-strong"), "exact", 21, id="at-end"),
    ],
)
def test_an_insertion_at_a_boundary_stays_outside_the_span(
    new: str, status: str, start: int
) -> None:
    (figure,) = place(LEDE, new, span(LEDE, "3,000"))
    assert (figure.status, figure.start, figure.text) == (status, start, "3,000")


def test_an_insertion_inside_a_span_makes_it_fuzzy_and_covers_it() -> None:
    new = LEDE.replace("South Korea's spy", "South Korea's national spy")
    (agency,) = place(LEDE, new, span(LEDE, "South Korea's spy agency"))
    assert agency.status == "fuzzy"
    assert agency.text == "South Korea's national spy agency"
    assert agency.start == span(LEDE, "South Korea's spy agency").start
    assert FUZZY_THRESHOLD <= agency.similarity < 1.0


def test_deleting_a_span_orphans_it_with_its_old_place() -> None:
    new = LEDE.replace(", South Korea's spy agency said on Friday", "")
    old_spy = span(LEDE, "spy agency")
    (spy,) = place(LEDE, new, old_spy)
    assert spy == Placement("orphaned", old_spy.start, old_spy.end, "spy agency", 0.0)


def test_deleting_part_of_a_span_makes_it_fuzzy() -> None:
    new = LEDE.replace("South Korea's spy agency", "South Korea's agency")
    (agency,) = place(LEDE, new, span(LEDE, "South Korea's spy agency"))
    assert (agency.status, agency.text) == ("fuzzy", "South Korea's agency")
    assert agency.similarity == pytest.approx(2 * 20 / (24 + 20))


def test_a_corrected_figure_is_fuzzy_and_its_neighbours_stay() -> None:
    new = LEDE.replace("3,000", "3,500")
    figure, troops, russia = place(
        LEDE, new, span(LEDE, "3,000"), span(LEDE, "troops"), span(LEDE, "Russia")
    )
    assert figure == Placement("fuzzy", 21, 26, "3,500", 0.8)
    assert (troops.status, russia.status) == ("exact", "exact")


def test_a_longer_figure_shifts_what_follows() -> None:
    new = LEDE.replace("3,000", "30,000")
    figure, troops = place(LEDE, new, span(LEDE, "3,000"), span(LEDE, "troops"))
    assert (figure.status, figure.start, figure.text) == ("fuzzy", 21, "30,000")
    assert troops.status == "shifted"
    assert lands_on(troops, new, "troops")


@pytest.mark.parametrize(
    ("old", "new", "quote"),
    [
        pytest.param("sent 30 troops", "sent 45 troops", "30", id="no-digit-kept"),
        pytest.param("sent 3,000 troops", "sent 12,000 troops", "3,000", id="figure-rewritten"),
        pytest.param("Kim met Putin", "Lee met Putin", "Kim", id="other-name"),
        pytest.param("Kim met Putin", "Kin met Putin", "Kim", id="three-letters-one-changed"),
    ],
)
def test_a_replaced_short_span_is_orphaned(old: str, new: str, quote: str) -> None:
    (placed,) = place(old, new, span(old, quote))
    assert placed.status == "orphaned"
    assert placed.similarity < FUZZY_THRESHOLD


def test_curly_quotes_inside_a_span_make_it_fuzzy_with_full_similarity() -> None:
    old = 'Kim said "we are ready" and left.'
    new = "Kim said “we are ready” and left."
    (quote,) = place(old, new, span(old, '"we are ready"'))
    assert quote == Placement("fuzzy", 9, 23, "“we are ready”", 1.0)


def test_curly_apostrophe_inside_a_span_makes_it_fuzzy() -> None:
    new = LEDE.replace("Korea's", "Korea’s")
    (agency,) = place(LEDE, new, span(LEDE, "South Korea's spy agency"))
    assert (agency.status, agency.text, agency.similarity) == (
        "fuzzy",
        "South Korea’s spy agency",
        1.0,
    )


def test_quotes_normalised_around_a_span_leave_it_exact() -> None:
    old = 'Kim said "we are ready" and left.'
    new = "Kim said “we are ready” and left."
    ready, left = place(old, new, span(old, "we are ready"), span(old, "left"))
    assert ready == Placement("exact", 10, 22, "we are ready", 1.0)
    assert left.status == "exact"


@pytest.mark.parametrize(
    ("old_quote", "new_quote"),
    [
        pytest.param("North  Korea", "North Korea", id="collapsed"),
        pytest.param("North Korea", "North\nKorea", id="newline"),
        pytest.param("North Korea", "North   Korea", id="expanded"),
    ],
)
def test_whitespace_changed_inside_a_span_makes_it_fuzzy(old_quote: str, new_quote: str) -> None:
    old, new = f"Troops from {old_quote} arrived.", f"Troops from {new_quote} arrived."
    (placed,) = place(old, new, span(old, old_quote))
    assert placed == Placement("fuzzy", 12, 12 + len(new_quote), new_quote, 1.0)


def test_whitespace_changed_around_a_span_shifts_it() -> None:
    old = "Kim  met Putin."
    new = "Kim met  Putin."
    kim, met, putin = place(old, new, span(old, "Kim"), span(old, "met"), span(old, "Putin"))
    assert (kim.status, met.status, putin.status) == ("exact", "shifted", "exact")
    assert lands_on(met, new, "met")


def test_spans_in_a_moved_paragraph_follow_it() -> None:
    old = "\n\n".join([LEDE, P1, P2, P3])
    new = "\n\n".join([LEDE, P2, P3, P1])
    pyongyang, second_kim, seoul, kremlin = place(
        old,
        new,
        span(old, "Pyongyang"),
        span(old, "Kim", 1),
        span(old, "Seoul"),
        span(old, "Kremlin"),
    )
    assert all(p.status == "shifted" for p in (pyongyang, second_kim, seoul, kremlin))
    assert lands_on(pyongyang, new, "Pyongyang")
    assert second_kim.start == new.index("where Kim") + len("where ")
    assert lands_on(seoul, new, "Seoul")
    assert lands_on(kremlin, new, "Kremlin")


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_every_span_follows_its_paragraph_in_any_order(order: tuple[int, ...]) -> None:
    """Swapped paragraphs are not diffed character by character into each other: each
    name and figure lands in its own paragraph, wherever that went."""
    paragraphs = [LEDE, P1, P2, P3]
    old = "\n\n".join(paragraphs)
    new = "\n\n".join(paragraphs[i] for i in order)
    starts = [sum(len(p) + 2 for p in paragraphs[:i]) for i in range(4)]
    new_starts = {i: new.index(paragraphs[i]) for i in range(4)}
    spans = [Span(m.start(), m.end(), m.group()) for m in re.finditer(r"[A-Z][\w']*|\d[\d,]*", old)]
    for one, placed in zip(spans, place(old, new, *spans), strict=True):
        paragraph = max(i for i in range(4) if starts[i] <= one.start)
        expected = new_starts[paragraph] + one.start - starts[paragraph]
        assert (placed.status, placed.start) in {("shifted", expected), ("exact", expected)}, one


def test_a_span_in_a_moved_and_edited_paragraph_is_fuzzy() -> None:
    old = "\n\n".join([LEDE, P1, P2, P3])
    moved_p1 = P1.replace("Vladimir Putin", "Vladimir V. Putin")
    new = "\n\n".join([LEDE, P2, P3, moved_p1])
    (putin,) = place(old, new, span(old, "Vladimir Putin"))
    assert (putin.status, putin.text) == ("fuzzy", "Vladimir V. Putin")
    assert putin.start == new.index("Vladimir V. Putin")


def test_emoji_before_a_span_shift_it_by_code_points() -> None:
    old = "Kim met Putin."
    new = "👍🏽 👩\u200d👩\u200d👧 Kim met Putin."
    kim, putin = place(old, new, span(old, "Kim"), span(old, "Putin"))
    # Thumb, modifier, space, woman, ZWJ, woman, ZWJ, girl, space: nine code points.
    assert (kim.status, kim.start, kim.end) == ("shifted", 9, 12)
    assert (putin.status, putin.start) == ("shifted", 17)


def test_a_span_holding_a_zwj_sequence_moves_whole() -> None:
    old = "Fans posted 👩\u200d👩\u200d👧 and 👍🏽 after the summit."
    new = "Many fans posted 👩\u200d👩\u200d👧 and 👍🏽 after the summit."
    (reaction,) = place(old, new, span(old, "👩\u200d👩\u200d👧 and 👍🏽"))
    assert reaction.status == "shifted"
    assert lands_on(reaction, new, "👩\u200d👩\u200d👧 and 👍🏽")


def test_an_emoji_inserted_inside_a_span_makes_it_fuzzy() -> None:
    old = "the summit in Pyongyang ended"
    new = "the summit in 🇰🇵 Pyongyang ended"
    (place_name,) = place(old, new, span(old, "summit in Pyongyang"))
    assert (place_name.status, place_name.text) == ("fuzzy", "summit in 🇰🇵 Pyongyang")


def test_a_skin_tone_added_after_a_span_joins_it() -> None:
    old = "Kim posted 👍 twice"
    new = "Kim posted 👍🏽 twice"
    thumb, twice = place(old, new, span(old, "👍"), span(old, "twice"))
    assert (thumb.status, thumb.text, thumb.similarity) == ("fuzzy", "👍🏽", 1.0)
    assert twice.status == "shifted"


def test_a_short_name_maps_to_its_own_occurrence() -> None:
    old = "Kim met Putin. Kim said no. Later Kim left for Pyongyang."
    new = "Kim met Putin. Later Kim left for Pyongyang."
    first, deleted, last = place(
        old, new, span(old, "Kim"), span(old, "Kim", 1), span(old, "Kim", 2)
    )
    assert first == Placement("exact", 0, 3, "Kim", 1.0)
    assert deleted.status == "orphaned"
    assert last.status == "shifted"
    assert lands_on(last, new, "Kim", 1)


def test_a_deleted_name_is_not_matched_to_a_distant_one() -> None:
    old = "\n\n".join([LEDE, P1, P2, P3])
    new = "\n\n".join([LEDE, P2, P3])
    first, second, third = place(
        old, new, span(old, "Kim"), span(old, "Kim", 1), span(old, "Kim", 2)
    )
    assert (first.status, second.status) == ("orphaned", "orphaned")
    assert third.status == "shifted"
    assert lands_on(third, new, "Kim")


def test_spans_with_the_same_text_land_together() -> None:
    new = "Update: " + LEDE
    a, b, other = place(LEDE, new, span(LEDE, "Russia"), span(LEDE, "Russia"), span(LEDE, "Korea"))
    assert a == b
    assert lands_on(a, new, "Russia")
    assert lands_on(other, new, "Korea")


@pytest.mark.parametrize(
    ("old", "new", "deleted"),
    [
        pytest.param("Kim met Putin. Kim left.", "Kim left.", 0, id="first-sentence"),
        pytest.param(
            "Kim said no. Kim met Putin. Kim left.", "Kim said no. Kim left.", 1, id="middle"
        ),
        pytest.param("“Kim spoke.” Kim left. Putin stayed.", "“Kim spoke.” Putin stayed.", 1),
    ],
)
def test_a_span_in_a_deleted_sentence_is_not_moved_onto_a_kept_span(
    old: str, new: str, deleted: int
) -> None:
    """One "Kim" of a deleted sentence is as cheaply explained as kept, in place of the
    "Kim" beside it; but that one is the diff's image of its own span."""
    spans = [span(old, "Kim", n) for n in range(old.count("Kim"))]
    placed = place(old, new, *spans)
    assert placed[deleted].status == "orphaned"
    kept = [p for n, p in enumerate(placed) if n != deleted]
    assert all(p.status in ("exact", "shifted") for p in kept)
    assert [new[p.start : p.end] for p in kept] == ["Kim"] * len(kept)
    assert len({p.start for p in kept}) == len(kept)


def test_a_deleted_sentence_that_repeats_its_neighbour_keeps_the_span() -> None:
    """Which of two equal sentences went, the texts cannot tell: the span is kept on
    the survivor, as an untouched span must be if the other one went."""
    old = "Kim left. Kim left. Putin stayed."
    new = "Kim left. Putin stayed."
    first, second = place(old, new, span(old, "Kim"), span(old, "Kim", 1))
    assert {first.status, second.status} <= {"exact", "shifted"}
    assert (first.start, second.start) == (0, 0)


def test_spans_beside_a_moved_sentence_stay_in_reach_of_their_copy() -> None:
    """A sentence moved later with its full stop dropped: the diff's edits slide next
    to each other (as diff-match-patch's merge slides them), so the names after the
    move are found where they went, not orphaned."""
    old = (
        "talks “Kim” Kim Jong-un talks? Kim's Kim said Kim Kim Putin. "
        "Seoul Seoul 👍🏽 nuclear Kim met? Jong-un the?"
    )
    moved = "Seoul Seoul 👍🏽 nuclear Kim met? "
    new = old[:31] + moved + old[31:59] + " " + old[61:]
    kims = [span(old, "Kim", n) for n in (3, 4, 5)]
    placed = place(old, new, *kims)
    assert [(p.status, p.start) for p in placed] == [
        ("shifted", k.start + len(moved)) for k in kims
    ]


def test_a_duplicated_word_removed_keeps_both_spans_on_the_survivor() -> None:
    old = "said that that Kim left"
    new = "said that Kim left"
    first, second = place(old, new, span(old, "that"), span(old, "that", 1))
    assert (first.start, first.end) == (second.start, second.end) == (5, 9)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(Span(0, 5, "Kim X"), id="wrong-text"),
        pytest.param(Span(3, 3, ""), id="empty"),
        pytest.param(Span(10, 500, "x"), id="past-the-end"),
    ],
)
def test_a_span_that_does_not_describe_the_old_text_is_refused(bad: Span) -> None:
    with pytest.raises(ValueError, match="does not match"):
        reanchor(P1, P1 + " More.", [bad])


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param("sent", "send", 0.75, id="one-in-four"),
        pytest.param('"yes"', "“yes”", 1.0, id="curly-quotes"),
        pytest.param("pro-Kremlin", "pro\u2013Kremlin", 1.0, id="en-dash"),
        pytest.param("North  Korea", "north korea", 1.0, id="case-and-spaces"),
        pytest.param("Kim", "Lee", 0.0, id="unrelated"),
    ],
)
def test_similarity_is_blind_to_typography(a: str, b: str, expected: float) -> None:
    assert similarity(a, b) == pytest.approx(expected)


def test_texts_of_more_sentences_than_codes_are_diffed_by_character(monkeypatch):
    """The first pass codes each distinct sentence as one character; a text with more
    of them than there are characters (1.8M code points of 3-character sentences) was
    a 500. It now goes to the character diff, and the spans still follow."""
    monkeypatch.setattr(anchoring, "SENTENCE_CODES", 4)
    old = "Kim met Putin. Xi came. Moon left. Abe spoke. Kim said yes."
    new = "Today: " + old
    spans = [Span(0, 3, "Kim"), Span(46, 49, "Kim")]
    assert reanchor(old, new, spans) == [
        Placement("shifted", 7, 10, "Kim", 1.0),
        Placement("shifted", 53, 56, "Kim", 1.0),
    ]


def test_a_quote_repeated_with_its_context_is_weighed_at_a_bounded_number_of_copies(
    monkeypatch,
):
    """Text that repeats each name with its context hundreds of times, diffed coarsely
    (here at once: the diff's time is up before it starts), so that every span is in
    inserted text: each weighs at most MOVED_COPIES copies on each side of where it is
    expected (8 here), not every copy (10,000 spans of a 150,000-character text took 45
    s; these 1,200 spans weigh 180,000 copies without the bound)."""
    monkeypatch.setattr(anchoring, "DIFF_TIMEOUT", -1.0)
    monkeypatch.setattr(anchoring, "MOVED_COPIES", 8)
    old = "".join(f"Kim met Putin {i}. Kim left. " for i in range(600))
    new = "".join(f"Kim met Putin {i}. Kim left. " for i in range(600) if i % 2)
    spans = [span(old, "Kim", n) for n in range(1200)]
    weighed = []
    evidence = anchoring._Diff.evidence

    def counted(self, one, at):
        weighed.append(at)
        return evidence(self, one, at)

    monkeypatch.setattr(anchoring._Diff, "evidence", counted)
    placed = place(old, new, *spans)
    assert len(weighed) <= len(spans) * 4 * anchoring.MOVED_COPIES
    assert all(p.status in ("shifted", "orphaned") for p in placed)
