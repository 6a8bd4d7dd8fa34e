"""Words of an index within a few edits of a typed one, found fast.

whoosh's own fuzzy matching walks an automaton over the whole term list for
every word (milliseconds each) and counts "sheos" -> "shoes" as two edits.
Here, as in SymSpell, each indexed word is filed under the strings left by
deleting one or two of its letters; two words within k edits share such a
string, so a typed word's own deletions find its candidates by dictionary
look-ups, and only those few are measured (a swap of neighbouring letters
counting as one edit). The files follow the index: `refresh` adds and drops
only the words that came or went since the last generation.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from app.search.words import MAX_EXPANSIONS, max_edits

LONGEST_WORD = 40  # longer "words" (pasted junk) are neither filed nor corrected


def _deletions(word: str, count: int) -> set[str]:
    found = {word}
    for n in range(1, count + 1):
        found |= {"".join(ch for i, ch in enumerate(word) if i not in gone)
                  for gone in combinations(range(len(word)), n)}
    return found


def _filed_edits(term: str) -> int:
    """How many deletions a term is filed under: enough to meet any typed
    word within its allowance (words of 8+ characters may be 2 edits away, so
    terms of 6+ characters are filed under 2)."""
    return 2 if len(term) >= 6 else 1 if len(term) >= 3 else 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap
    neighbours), or limit + 1 once it is sure to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
    return current[-1]


class FieldVocabulary:
    def __init__(self):
        self.terms: set[str] = set()
        self.filed: dict[str, set[str]] = defaultdict(set)

    def refresh(self, terms: set[str]) -> None:
        for term in self.terms - terms:
            for key in _deletions(term, _filed_edits(term)):
                self.filed[key].discard(term)
                if not self.filed[key]:
                    del self.filed[key]
        for term in terms - self.terms:
            for key in _deletions(term, _filed_edits(term)):
                self.filed[key].add(term)
        self.terms = terms

    def near(self, word: str) -> list[str]:
        """Terms within the word's allowance of edits (not the word itself), closest first."""
        allowance = max_edits(word)
        if not allowance or len(word) > LONGEST_WORD:
            return []
        candidates = set()
        for key in _deletions(word, allowance):
            candidates |= self.filed.get(key, set())
        candidates.discard(word)
        measured = sorted((edit_distance(word, term, allowance), term) for term in candidates)
        return [term for distance, term in measured if distance <= allowance][:MAX_EXPANSIONS]


class Vocabulary:
    """The fuzzy fields' words of one store's index."""

    def __init__(self):
        self.fields: dict[str, FieldVocabulary] = defaultdict(FieldVocabulary)

    def refresh_field(self, name: str, terms: set[str]) -> None:
        """The field's words are now `terms` (only words of letters are kept)."""
        self.fields[name].refresh({term for term in terms
                                   if isinstance(term, str) and term.isalpha() and 3 <= len(term) <= LONGEST_WORD})

    def near(self, field_name: str, word: str) -> list[str]:
        return self.fields[field_name].near(word) if field_name in self.fields else []
