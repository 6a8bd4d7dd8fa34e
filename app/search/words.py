"""From what a shopper typed to the terms searched, word by word.

The text is never given to whoosh's query parser: it is cut into words
(so `title:(`, `"`, `*` or `AND OR NOT` are just words), and each word
becomes its alternatives, each with a weight:
- its exact terms in every searched field (stemmed where the field is):
  EXACT_WEIGHTS, so the title counts most and the description least;
- for the last word, the title words it begins (as-you-type): PREFIX_WEIGHT;
- for a word of 4+ letters, the title, vendor, type and option words within
  one edit of it (two from 8 letters; a swap of neighbouring letters counts
  as one edit, so "sheos" reaches "shoes"): FUZZY_WEIGHT, below any exact
  match, so an exact match always outranks a corrected one.
Every word must match (AND), as shoppers expect more words to narrow; a
product's relevance is the sum, over the words, of the best weight by which
it matches each (app.search.shop).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_CHARS = 200
MAX_WORDS = 20
EXACT_WEIGHTS = {"title": 8, "vendor": 4, "product_type": 4, "tags": 4, "options": 4, "sku": 4, "description": 2}
FUZZY_FIELDS = ("title_words", "vendor", "product_type", "options")
PREFIX_FIELD = "title_words"
PREFIX_WEIGHT = 3
FUZZY_WEIGHT = 1
MAX_EXPANSIONS = 40  # terms one fuzzy or prefix word may expand to
MIN_PREFIX = 2
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_text(raw: str | None) -> str:
    """The text actually searched: control characters out, whitespace folded,
    at most MAX_WORDS words and MAX_CHARS characters."""
    words = _CONTROL.sub(" ", raw or "").split()[:MAX_WORDS]
    return " ".join(words)[:MAX_CHARS].strip()


def max_edits(word: str) -> int:
    return 2 if len(word) >= 8 else 1 if len(word) >= 4 else 0


@dataclass(frozen=True)
class Alternative:
    """Documents holding every one of `terms` in `field` match the word with `weight`."""

    field: str
    terms: tuple[str, ...]
    weight: int


@dataclass
class Word:
    text: str
    alternatives: list[Alternative] = field(default_factory=list)
    corrected: bool = False  # in no field as typed; only its corrections can match


def plan(reader, text: str, vocabulary, *, exact_weights=EXACT_WEIGHTS, fuzzy_fields=FUZZY_FIELDS) -> list[Word]:
    """The words of `text` (already cleaned) with their alternatives; words
    with none (only punctuation, stop words) are left out."""
    words = text.split()
    planned = []
    for position, typed in enumerate(words):
        word = _plan_word(reader, typed, vocabulary, position == len(words) - 1, exact_weights, fuzzy_fields)
        if word.alternatives:
            planned.append(word)
    return planned


def _plan_word(reader, typed: str, vocabulary, last: bool, exact_weights, fuzzy_fields) -> Word:
    word = Word(typed)
    schema = reader.schema
    for name, weight in exact_weights.items():
        terms = tuple(dict.fromkeys(schema[name].process_text(typed, mode="query")))
        if terms:
            word.alternatives.append(Alternative(name, terms, weight))
    known = any(all((a.field, t) in reader for t in a.terms) for a in word.alternatives)
    folded = typed.lower()
    prefixed = _expand_prefix(reader, PREFIX_FIELD, folded) if last and len(folded) >= MIN_PREFIX else []
    word.alternatives += [Alternative(PREFIX_FIELD, (term,), PREFIX_WEIGHT) for term in prefixed]
    if max_edits(folded) and folded.isalpha():
        fuzzy = [Alternative(name, (term,), FUZZY_WEIGHT) for name in fuzzy_fields
                 for term in vocabulary.near(name, folded)]
        word.alternatives += fuzzy
        word.corrected = bool(fuzzy) and not known and not prefixed
    return word


def _expand_prefix(reader, name: str, prefix: str) -> list[str]:
    terms = []
    for term in reader.expand_prefix(name, prefix):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if text != prefix:
            terms.append(text)
        if len(terms) == MAX_EXPANSIONS:
            break
    return terms
