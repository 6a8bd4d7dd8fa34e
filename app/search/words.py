"""From what a shopper typed to a whoosh query.

The text is never given to whoosh's query parser: it is cut into words, and
each word becomes an OR of
- its exact terms in every searched field (stemmed where the field is), at
  full weight; field boosts put the title above the description;
- for a word of 4+ characters, the title, vendor, type and option words
  within one edit of it (two from 8 characters; a swap of two neighbouring
  letters counts as one edit, so "sheos" reaches "shoes"), at FUZZY_BOOST,
  so an exact match always outranks a corrected one;
- for the last word, the title words it begins (as-you-type), at PREFIX_BOOST.
Every word must match (AND), as shoppers expect more words to narrow.
So `title:(`, `"`, `*` or `AND OR NOT` are just words.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh.query import And, Or, Query, Term

MAX_CHARS = 200
MAX_WORDS = 20
EXACT_FIELDS = ("title", "description", "vendor", "product_type", "tags", "options", "sku")
FUZZY_FIELDS = ("title_words", "vendor", "product_type", "options")
PREFIX_FIELD = "title_words"
FUZZY_BOOST = 0.2
PREFIX_BOOST = 0.5
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


@dataclass
class WordQuery:
    query: Query
    corrected: bool  # the word is in no field as typed; only its corrections (or nothing) match


def text_query(searcher, text: str, vocabulary, *, prefix: bool = True,
               exact_fields=EXACT_FIELDS, fuzzy_fields=FUZZY_FIELDS) -> tuple[Query | None, bool]:
    """The query for `text` (already cleaned), and whether it relies on a
    correction (a word found in no field as typed). None: nothing searchable."""
    words = text.split()
    parts, corrected = [], False
    for position, word in enumerate(words):
        last = prefix and position == len(words) - 1 and not text.endswith(" ")
        part = _word_query(searcher, word, vocabulary, last, exact_fields, fuzzy_fields)
        if part is None:
            continue
        parts.append(part.query)
        corrected = corrected or part.corrected
    if not parts:
        return None, False
    return (parts[0] if len(parts) == 1 else And(parts)), corrected


def _word_query(searcher, word, vocabulary, last, exact_fields, fuzzy_fields) -> WordQuery | None:
    reader = searcher.reader()
    exact = [query for name in exact_fields if (query := _exact(searcher.schema, name, word)) is not None]
    folded = word.lower()
    fuzzy = []
    if max_edits(folded) and folded.isalpha():
        fuzzy = [Term(name, term, boost=FUZZY_BOOST) for name in fuzzy_fields for term in vocabulary.near(name, folded)]
    prefixed = []
    if last and len(folded) >= MIN_PREFIX:
        prefixed = [Term(PREFIX_FIELD, term, boost=PREFIX_BOOST) for term in _expand_prefix(reader, PREFIX_FIELD, folded)]
    alternatives = exact + fuzzy + prefixed
    if not alternatives:
        return None
    known = any(_exists(reader, query) for query in exact)
    query = alternatives[0] if len(alternatives) == 1 else Or(alternatives)
    return WordQuery(query, corrected=bool(fuzzy) and not known and not prefixed)


def _exact(schema, name: str, word: str) -> Query | None:
    """The word's terms in one field as that field analyses text (a word the
    analyser splits, like "t-shirt", needs all its pieces there)."""
    terms = list(schema[name].process_text(word, mode="query"))
    if not terms:
        return None
    return Term(name, terms[0]) if len(terms) == 1 else And([Term(name, t) for t in terms])


def _exists(reader, query: Query) -> bool:
    return all(term in reader for term in query.iter_all_terms())


def _expand_prefix(reader, name: str, prefix: str) -> list[str]:
    terms = []
    for term in reader.expand_prefix(name, prefix):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if text != prefix:
            terms.append(text)
        if len(terms) == MAX_EXPANSIONS:
            break
    return terms
