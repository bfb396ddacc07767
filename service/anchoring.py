"""Re-anchoring: where each annotation span lands when its document's text is corrected.

Pure and database-free, so a revision can map every span inside the transaction that
stores the new text. Offsets are Unicode code points, half-open, as everywhere else.

The edit is diffed once (diff-match-patch, over sentences then characters, bounded by
``DIFF_TIMEOUT``) into *hunks*: maximal runs of deleted and inserted text between
unchanged text. Sentences replaced by others are diffed by character only where that
keeps at least half of the shorter side (after diff-match-patch's semantic cleanup):
otherwise they are different sentences, as when paragraphs swap, and stay one
deletion and one insertion, whose spans rule 3 finds where they went. Each span is
then placed by the first rule that holds:

1. Its ends mapped through the diff enclose its old text: ``exact`` if the offsets are
   unchanged, else ``shifted``. An insertion exactly at a boundary is outside the span
   (a span never grows by an edit at its edge), except combining marks, joiners and
   emoji modifiers added right after it, which belong to its last character.
2. Within ``CONTEXT`` characters of an edit, the copy of the quote that makes the
   local change cheapest to explain (insertions plus deletions), if no costlier than
   the diff's explanation: ``shifted`` (or ``exact``). A diff is one of several
   explanations, not always the one that keeps the span: in "KKK" -> "KK" any "K" may
   have gone, and the diff's speedups are not always minimal. Except onto the diff's
   image of another span, when the edit deleted the span's whole sentences and no
   other deletion of whole sentences keeps it: in "Kim met Putin. Kim left." ->
   "Kim left." the first "Kim" went with its sentence, and the kept one is the second.
   A copy away from the mapped place with less than ``MIN_EVIDENCE`` gives way to one
   that rule 3 finds.
3. A copy of the quote inside inserted text with ``MIN_EVIDENCE``: ``shifted``. A moved
   paragraph is a deletion plus an insertion to the diff; looking only in inserted
   text, a deleted span never lands on another occurrence that is still the image of
   other old text (one of the many "Kim"s), so it is orphaned instead.
4. The text at the mapped place is similar to the quote (``FUZZY_THRESHOLD``), or text
   in inserted text between exact copies of its old prefix and suffix (``ANCHOR``
   characters each; moved and edited) is: ``fuzzy``.
5. Otherwise ``orphaned``: the old offsets and text, with the best similarity seen
   (0 when no candidate was even of a plausible length).

Evidence for a copy is the length of the exact match extended by agreeing context:
``common suffix of the old and new prefixes + len(quote) + common prefix of the old and
new suffixes``, each context ``CONTEXT`` characters long. It must reach ``MIN_EVIDENCE``
(one full context), so a short name is relocated only with its surroundings and a long
quote on its own.

Similarity is ``difflib`` ratio ``2 * matches / (len(a) + len(b))`` on text folded for
typography (NFC, case, curly vs straight quotes, dashes, whitespace runs, emoji
modifiers): a typographic correction scores 1.0 but is still ``fuzzy``, since the text
changed. ``FUZZY_THRESHOLD = 0.75`` allows about one changed character in four: "sent"
-> "send" (0.75) and "3,000" -> "3,500" (0.8) are fuzzy, "Kim" -> "Kin" (0.67) and a
reworded phrase are orphaned. A changed figure therefore keeps its annotation, flagged
fuzzy for review, when most of its digits survive.
"""

from __future__ import annotations

import re
import time
import unicodedata
from bisect import bisect_right
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from diff_match_patch import diff_match_patch

Status = Literal["exact", "shifted", "fuzzy", "orphaned"]

FUZZY_THRESHOLD = 0.75
CONTEXT = 32
MIN_EVIDENCE = CONTEXT
# Anchors used to find a moved-and-edited span: this many characters on each side.
ANCHOR = CONTEXT // 2
# Seconds; past it the diff gets coarser (still correct), never slower.
DIFF_TIMEOUT = 0.5
# Bounds of the search for a cheaper local explanation: window size beside the quote,
# and the copies of the quote tried, nearest first.
NEAR = 8 * CONTEXT
NEAR_COPIES = 64
# Past this many runs of inserted text, search the whole text once rather than each run.
SCATTERED = 64
# Copies of a quote with its context weighed on each side of where it is expected.
MOVED_COPIES = 64

ZWJ = "\u200d"
# Typographic variants: double quotes, single quotes and primes, dashes; dropped
# variation selectors and skin-tone modifiers.
_FOLD = str.maketrans(
    {
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\ufe0e\ufe0f\U0001f3fb\U0001f3fc\U0001f3fd\U0001f3fe\U0001f3ff"),
    }
)
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?\n])")
_CLOSERS = "\"'\u2019\u201d)]"  # after a full stop, still its sentence's


@dataclass(frozen=True, slots=True)
class Span:
    """An annotation's old offsets and text (``text == old_text[start:end]``)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a span landed; an orphan keeps its old offsets and text."""

    status: Status
    start: int
    end: int
    text: str
    similarity: float


def reanchor(old_text: str, new_text: str, spans: Sequence[Span]) -> list[Placement]:
    """Place each span of ``old_text`` in ``new_text``, in input order.

    Raises ``ValueError`` for a span that does not describe ``old_text``, since anchoring
    a wrong quote would silently move the annotation somewhere else.
    """
    for index, span in enumerate(spans):
        if not 0 <= span.start < span.end <= len(old_text) or (
            old_text[span.start : span.end] != span.text
        ):
            raise ValueError(f"span {index} ({span.start}, {span.end}) does not match the text")
    if old_text == new_text:
        return [Placement("exact", s.start, s.end, s.text, 1.0) for s in spans]
    diff = _Diff(old_text, new_text)
    placements = [diff.place(span) for span in spans]
    # Where the diff itself carried a span: that copy is the image of the span's text.
    # A span whose sentences the edit deleted is not moved onto it by rule 2.
    by_diff = [
        placed.status != "orphaned" and placed.start == diff.mapped(span)
        for span, placed in zip(spans, placements, strict=True)
    ]
    images: dict[tuple[int, int], set[int]] = {}
    for span, placed, carried in zip(spans, placements, by_diff, strict=True):
        if carried:
            images.setdefault((placed.start, placed.end), set()).add(span.start)
    for index, (span, placed, carried) in enumerate(zip(spans, placements, by_diff, strict=True)):
        if carried or placed.status == "orphaned":
            continue
        collides = images.get((placed.start, placed.end), set()) - {span.start}
        if collides and diff.deleted_sentences(span):
            placements[index] = diff.place(span, _ImagesOfOthers(images, span))
    return placements


class _ImagesOfOthers:
    """The starts of the copies of a span's text that the diff made images of other
    spans (other old offsets), looked up as they are asked for."""

    def __init__(self, images: dict[tuple[int, int], set[int]], span: Span) -> None:
        self.images, self.span = images, span

    def __contains__(self, at: object) -> bool:
        if not isinstance(at, int):
            return False
        olds = self.images.get((at, at + len(self.span.text)))
        return bool(olds) and olds != {self.span.start}


def similarity(a: str, b: str) -> float:
    """Similarity in [0, 1] of two texts, blind to typography (see the module docstring)."""
    return _ratio(_fold(a), _fold(b))


def _ratio(a: str, b: str) -> float:
    return 1.0 if a == b else SequenceMatcher(None, a, b, autojunk=False).ratio()


def _fold(text: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text).translate(_FOLD)).casefold()


def _extends(char: str) -> bool:
    """Whether ``char`` belongs to the character before it (one grapheme cluster)."""
    return (
        char == ZWJ
        or "\ufe00" <= char <= "\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or "\U000e0020" <= char <= "\U000e007f"
        or unicodedata.category(char) in ("Mn", "Me")
    )


def _cluster_tail(text: str) -> int:
    """How many leading characters of inserted ``text`` join the character before it."""
    i = 0
    while i < len(text) and _extends(text[i]):
        i += 2 if text[i] == ZWJ and i + 1 < len(text) else 1
    return i


# Each distinct sentence stands for one character in the first pass: as many as there
# are code points. Texts of more go straight to the character diff.
SENTENCE_CODES = 0x110000


def _diff(old: str, new: str) -> list[tuple[int, str]]:
    """diff-match-patch's diff, first over sentences, then characters within changed runs.

    Its own speedup diffs lines first; news paragraphs are long lines, and a document may
    be one line, where a character diff of many scattered edits times out into one
    replacement of everything. Sentences keep the first pass small in both cases.
    """
    engine = diff_match_patch()
    deadline = time.time() + DIFF_TIMEOUT
    pieces: list[str] = []
    codes: dict[str, str] = {}

    def encode(text: str) -> str:
        out = []
        for piece in _SENTENCE_END.split(text):
            if piece not in codes:
                if len(pieces) == SENTENCE_CODES:
                    raise OverflowError
                codes[piece] = chr(len(pieces))
                pieces.append(piece)
            out.append(codes[piece])
        return "".join(out)

    try:
        coarse = engine.diff_main(encode(old), encode(new), False, deadline)
        coarse = [(op, "".join(pieces[ord(c)] for c in chunk)) for op, chunk in coarse]
    except OverflowError:  # more distinct sentences than characters to stand for them
        coarse = [(diff_match_patch.DIFF_DELETE, old), (diff_match_patch.DIFF_INSERT, new)]
    diffs: list[tuple[int, str]] = []
    deleted, inserted = [], []
    for op, chunk in [*coarse, (diff_match_patch.DIFF_EQUAL, "")]:
        if op == diff_match_patch.DIFF_DELETE:
            deleted.append(chunk)
        elif op == diff_match_patch.DIFF_INSERT:
            inserted.append(chunk)
        else:
            gone, came = "".join(deleted), "".join(inserted)
            fine = engine.diff_main(gone, came, False, deadline)
            engine.diff_cleanupSemantic(fine)
            kept = sum(len(chunk) for op, chunk in fine if op == diff_match_patch.DIFF_EQUAL)
            if 2 * kept < min(len(gone), len(came)):
                fine = [(diff_match_patch.DIFF_DELETE, gone), (diff_match_patch.DIFF_INSERT, came)]
            diffs += fine
            diffs.append((op, chunk))
            deleted, inserted = [], []
    # What diff_cleanupMerge does, but for factoring common affixes out of each
    # replacement: a replacement kept whole stays whole.
    return _slid(_joined(diffs))


def _joined(diffs: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """Runs of one kind joined into one, empty ones dropped."""
    joined: list[tuple[int, str]] = []
    for op, chunk in diffs:
        if not chunk:
            continue
        if joined and joined[-1][0] == op:
            joined[-1] = (op, joined[-1][1] + chunk)
        else:
            joined.append((op, chunk))
    return joined


def _slid(diffs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """A single edit between two equal runs slid over the one it ends or starts with,
    so that it joins the edit beyond ("K<del>im. K</del>im" is "<del>Kim. </del>Kim"),
    until none slides: cleanupMerge's second pass, keeping edits near each other within
    reach of the rules that look around them."""
    equal = diff_match_patch.DIFF_EQUAL
    while True:
        slid = False
        i = 1
        while i < len(diffs) - 1:
            (before_op, before), (op, chunk), (after_op, after) = diffs[i - 1 : i + 2]
            if before_op == equal and after_op == equal and op != equal:
                if chunk.endswith(before):
                    moved = chunk[: len(chunk) - len(before)]
                    diffs[i - 1 : i + 2] = [(op, before + moved), (equal, before + after)]
                    slid = True
                elif chunk.startswith(after):
                    diffs[i - 1 : i + 2] = [
                        (equal, before + after),
                        (op, chunk[len(after) :] + after),
                    ]
                    slid = True
            i += 1
        if not slid:
            return diffs
        diffs = _joined(diffs)


class _Diff:
    """The edit as hunks ``(old_a, old_b, new_a, new_b)``, sorted, between equal text."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        self._copies: dict[str, list[int]] = {}  # _near_inserted's finds, by needle
        hunks: list[tuple[int, int, int, int]] = []
        i = j = 0
        open_at: tuple[int, int] | None = None
        for op, chunk in _diff(old, new):
            if op == diff_match_patch.DIFF_EQUAL:
                if open_at:
                    hunks.append((open_at[0], i, open_at[1], j))
                    open_at = None
                i += len(chunk)
                j += len(chunk)
                continue
            open_at = open_at or (i, j)
            if op == diff_match_patch.DIFF_DELETE:
                i += len(chunk)
            else:
                j += len(chunk)
        if open_at:
            hunks.append((open_at[0], i, open_at[1], j))
        self.hunks = hunks
        self.starts = [h[0] for h in hunks]
        self.ends = [h[1] for h in hunks]
        self.inserted = [(h[2], h[3]) for h in hunks if h[2] < h[3]]
        self.inserted_starts = [a for a, _ in self.inserted]

    def _hunk(self, position: int) -> tuple[int, int, int, int] | None:
        """The last hunk starting at or before ``position``."""
        k = bisect_right(self.starts, position) - 1
        return self.hunks[k] if k >= 0 else None

    def map_start(self, start: int) -> int:
        hunk = self._hunk(start)
        if hunk is None:
            return start
        a, b, na, nb = hunk
        if start == a:
            # A pure insertion here precedes the span; a replacement of its first
            # characters is part of it.
            return na if a < b else nb
        return na if start < b else start + nb - b

    def map_end(self, end: int) -> int:
        hunk = self._hunk(end)
        if hunk is None:
            return end
        a, b, na, nb = hunk
        if end == a:
            return na + _cluster_tail(self.new[na:nb])
        return nb if end <= b else end + nb - b

    def expect(self, position: int) -> int:
        """Where ``position`` most likely went: interpolated inside a hunk."""
        hunk = self._hunk(position)
        if hunk is None:
            return position
        a, b, na, nb = hunk
        if position >= b:
            return position + nb - b
        return na + (position - a) * (nb - na) // (b - a)

    def evidence(self, span: Span, start: int) -> int:
        """Length of the exact match at ``start``, extended by agreeing context."""
        old, new, end = self.old, self.new, start + len(span.text)
        before = common_suffix(
            old[max(0, span.start - CONTEXT) : span.start], new[max(0, start - CONTEXT) : start]
        )
        after = common_prefix(old[span.end : span.end + CONTEXT], new[end : end + CONTEXT])
        return before + len(span.text) + after

    def deleted_sentences(self, span: Span) -> bool:
        """Whether the span lies in deleted text that is whole sentences, and no other
        deletion of whole sentences that keeps the span explains the edit as cheaply
        (sliding the deleted run along text that repeats it): then its sentence went,
        whichever copy of its words another explanation could keep."""
        hunk = self._hunk(span.start)
        if hunk is None:
            return False
        a, b, na, nb = hunk
        if na != nb or not (a <= span.start and span.end <= b):
            return False
        if not (self._sentence_edge(a) and self._sentence_edge(b)):
            return False
        old = self.old
        for step in (1, -1):
            shift = 0
            while True:
                shift += step
                i = (a if step > 0 else a - 1) + shift - step
                j = (b if step > 0 else b - 1) + shift - step
                if not (0 <= i < len(old) and 0 <= j < len(old)) or old[i] != old[j]:
                    break
                if abs(shift) > NEAR:
                    return False  # a long repeat: too ambiguous to call
                keeps = not (a + shift <= span.start and span.end <= b + shift)
                if keeps and self._sentence_edge(a + shift) and self._sentence_edge(b + shift):
                    return False
        return True

    def _sentence_edge(self, position: int) -> bool:
        """Whether a sentence of the old text starts or ends at ``position`` (white space
        and closing quotes after its full stop go with it)."""
        old = self.old
        if not 0 < position < len(old) or old[position - 1] == "\n":
            return True
        at = position
        while at > 0 and (old[at - 1].isspace() or old[at - 1] in _CLOSERS):
            at -= 1
        return at == 0 or old[at - 1] in ".!?\n"

    def mapped(self, span: Span) -> int | None:
        """Where the diff carries the span's start, if its text is there whole."""
        start, end = self.map_start(span.start), self.map_end(span.end)
        return start if self.new[start:end] == span.text else None

    def place(self, span: Span, taken: Container[int] = frozenset()) -> Placement:
        """Where the span lands (rules 1-5); ``taken``: starts of copies that are the
        diff's images of other spans, not to be chosen by rule 2."""
        quote = span.text
        start, end = self.map_start(span.start), self.map_end(span.end)
        mapped = start if self.new[start:end] == quote else None
        nearest = self._nearest(span, mapped, taken)
        if nearest is not None and (
            nearest == mapped or self.evidence(span, nearest) >= MIN_EVIDENCE
        ):
            return self._found(span, nearest)
        expected = self.expect(span.start)
        moved = self._moved(span)
        if moved:
            return self._found(
                span, max(moved, key=lambda at: (self.evidence(span, at), -abs(at - expected)))
            )
        if nearest is not None:
            return self._found(span, nearest)
        best = max([(0.0, 0, 0), *self._scored(quote, [(start, end)])])
        if best[0] < FUZZY_THRESHOLD:
            best = max([best, *self._scored(quote, self._anchored(span))])
        score, start, end = best
        if self.new[start:end] == quote:
            return self._found(span, start)
        if score >= FUZZY_THRESHOLD:
            return Placement("fuzzy", start, end, self.new[start:end], score)
        return Placement("orphaned", span.start, span.end, quote, score)

    def _nearest(self, span: Span, mapped: int | None, taken: Container[int]) -> int | None:
        """The copy of the quote near the span that makes the edit around it cheapest to
        explain, if no costlier than the diff's own explanation; else the mapped place.

        Within ``CONTEXT`` characters of an edit the diff is one of several explanations
        of the change, not always the shortest (its speedups are heuristic) nor the one
        that keeps the span (in "KKK" -> "KK" any "K" may have gone). Cost is insertions
        plus deletions in a window of equal text around the span; ties keep the mapped
        place, then the copy nearest to where the span is expected.
        """
        lo = bisect_right(self.ends, span.start - CONTEXT - 1)
        hi = bisect_right(self.starts, span.end + CONTEXT)
        if lo >= hi:
            return mapped
        first, last = self.hunks[lo], self.hunks[hi - 1]
        old_lo = min(first[0], max(0, span.start - CONTEXT))
        old_hi = max(last[1], min(len(self.old), span.end + CONTEXT))
        new_lo, new_hi = first[2] - (first[0] - old_lo), last[3] + (old_hi - last[1])
        size = len(span.text)
        if max(old_hi - old_lo, new_hi - new_lo) > size + 2 * NEAR:
            # A rewritten passage, not a local ambiguity: the later steps judge it.
            return mapped
        expected = self.expect(span.start)
        copies = sorted(
            (
                at
                for at in self._occurrences(span, new_lo, new_hi)
                if at != mapped and at not in taken
            ),
            key=lambda at: abs(at - expected),
        )[:NEAR_COPIES]
        if not copies:
            return mapped
        before, after = self.old[old_lo : span.start], self.old[span.end : old_hi]

        def cost(at: int) -> int:
            return _indel(before, self.new[new_lo:at]) + _indel(after, self.new[at + size : new_hi])

        budget = sum(b - a + nb - na for a, b, na, nb in self.hunks[lo:hi])
        ranked = [(cost(at), 1, abs(at - expected), at) for at in copies]
        if mapped is not None:
            ranked.append((cost(mapped), 0, 0, mapped))
        best = min(ranked)
        return best[3] if best[0] <= budget else mapped

    def _occurrences(self, span: Span, lo: int, hi: int) -> Iterator[int]:
        """Whole copies of the quote in ``new[lo:hi]`` (see ``_whole``)."""
        return (at for at in _occurrences(self.new, span.text, lo, hi) if self._whole(span, at))

    def _whole(self, span: Span, at: int) -> bool:
        """Whether the copy at ``at`` ends where a character ends: one followed by a new
        joiner or modifier is part of a changed emoji."""
        after = at + len(span.text)
        return (
            after == len(self.new)
            or not _extends(self.new[after])
            or (span.end < len(self.old) and _extends(self.old[span.end]))
        )

    def _found(self, span: Span, start: int) -> Placement:
        end = start + len(span.text)
        status: Status = "exact" if (start, end) == (span.start, span.end) else "shifted"
        return Placement(status, start, end, span.text, 1.0)

    def _scored(
        self, quote: str, regions: Iterable[tuple[int, int]]
    ) -> Iterator[tuple[float, int, int]]:
        folded = _fold(quote)
        for start, end in regions:
            candidate = _fold(self.new[start:end])
            # Lengths alone may rule the threshold out: then spare the quadratic ratio
            # (a short name against a rewritten paragraph) and skip the candidate.
            total = len(folded) + len(candidate)
            if start < end and 2 * min(len(folded), len(candidate)) >= FUZZY_THRESHOLD * total:
                yield _ratio(folded, candidate), start, end

    def _moved(self, span: Span) -> list[int]:
        """Copies of the quote inside inserted text with ``MIN_EVIDENCE``.

        Evidence ``left + len(quote) + right >= MIN_EVIDENCE`` needs ``left`` or ``right``
        of at least half the shortfall, so every such copy is found by searching for the
        quote with that much of its old prefix, or of its old suffix: long strings, rare
        even where the quote alone ("Kim") is everywhere.
        """
        half = -(-max(0, MIN_EVIDENCE - len(span.text)) // 2)
        expected = self.expect(span.start)
        starts: set[int] = set()
        for lo, hi in ((span.start - half, span.end), (span.start, span.end + half)):
            lo, hi = max(0, lo), min(len(self.old), hi)
            offset = span.start - lo
            near = self._near_inserted(self.old[lo:hi], expected - offset)
            starts.update(at + offset for at in near)
        return [
            at
            for at in sorted(starts)
            if self._inserted(at, at + len(span.text))
            and self._whole(span, at)
            and self.evidence(span, at) >= MIN_EVIDENCE
        ]

    def _near_inserted(self, needle: str, around: int) -> list[int]:
        """Copies of ``needle`` overlapping or next to inserted text (a superset), at most
        the ``MOVED_COPIES`` on each side of ``around``: text that repeats a quote with
        its context more often is too ambiguous to follow further, and weighing every
        copy for every span of it would take minutes."""
        copies = self._copies.get(needle)
        if copies is None:
            if len(self.inserted) > SCATTERED:
                found: Iterable[int] = _occurrences(self.new, needle)
            else:
                found = (
                    at
                    for a, b in self.inserted
                    for at in _occurrences(self.new, needle, a - len(needle), b + len(needle))
                )
            copies = self._copies[needle] = sorted(set(found))
        k = bisect_right(copies, around)
        return copies[max(0, k - MOVED_COPIES) : k + MOVED_COPIES]

    def _inserted(self, start: int, end: int) -> bool:
        """Whether ``new[start:end]`` lies inside one run of inserted text."""
        k = bisect_right(self.inserted_starts, start) - 1
        return k >= 0 and end <= self.inserted[k][1]

    def _anchored(self, span: Span) -> Iterator[tuple[int, int]]:
        """Candidates in inserted text between exact copies of the old prefix and suffix."""
        prefix = self.old[max(0, span.start - ANCHOR) : span.start]
        suffix = self.old[span.end : span.end + ANCHOR]
        if min(len(prefix), len(suffix)) < ANCHOR // 2:
            return
        reach = 2 * len(span.text) + len(suffix) + ANCHOR
        for at in self._near_inserted(prefix, self.expect(span.start) - len(prefix)):
            start = at + len(prefix)
            end = self.new.find(suffix, start, start + reach)
            if end > start and self._inserted(start, end):
                yield start, end


def _indel(a: str, b: str) -> int:
    """Insertions plus deletions turning ``a`` into ``b``: ``len(a) + len(b) - 2 * LCS``,
    with the LCS length by Hyyro's bit-parallel algorithm (one big-int step per char)."""
    if not a or not b:
        return len(a) + len(b)
    masks: dict[str, int] = {}
    for i, char in enumerate(b):
        masks[char] = masks.get(char, 0) | 1 << i
    full = (1 << len(b)) - 1
    row = full
    for char in a:
        match = row & masks.get(char, 0)
        row = ((row + match) | (row - match)) & full
    return len(a) - len(b) + 2 * row.bit_count()


def _occurrences(text: str, quote: str, lo: int = 0, hi: int | None = None) -> Iterator[int]:
    """Starts of ``quote`` lying wholly inside ``text[lo:hi]``."""
    hi = len(text) if hi is None else max(0, hi)
    at = text.find(quote, max(0, lo), hi)
    while at >= 0:
        yield at
        at = text.find(quote, at + 1, hi)


def common_prefix(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` share at their start."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def common_suffix(a: str, b: str) -> int:
    """How many characters ``a`` and ``b`` share at their end."""
    return common_prefix(a[::-1], b[::-1])
