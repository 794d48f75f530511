"""The text a client is found by, and how a typed search is read into words: no database.

A client's search text is one lower-case string: the first name, the last name, the email and
the phone's digits, separated by spaces, then a token for each word start in the names and the
email: a mark and the word's first two letters. A typed word never holds a space, so it can
only be found inside one of those parts, never across two; a word of three or more characters
is looked for anywhere in them, a shorter one only where a word starts. Both databases index
the same text for substrings of three characters (trigrams), which the mark makes every short
word long enough for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Two control characters: a typed word never holds one (forms strip them), so only a short word
# turned into a word start can match a token, and mark plus one letter is three characters.
WORD_START_MARK = "\x01\x01"
# A word this long is looked for anywhere; a shorter one only at a word start.
MIN_ANYWHERE_LENGTH = 3
# A word with this many digits also finds a phone number holding those digits.
MIN_PHONE_DIGITS = 3
# More words than this add nothing to a search a person types.
MAX_SEARCH_WORDS = 8
PREFIX_LENGTH = MIN_ANYWHERE_LENGTH - 1

# Where a word starts inside a name or an email: after a space, a hyphen or an apostrophe, so
# "an" finds "Mary Ann", "jo" finds "Smith-Jones" and "br" finds "O'Brien".
_WORD_BREAKS = re.compile(r"[\s\-'\u2018\u2019]+")
_NOT_A_DIGIT = re.compile(r"\D")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def client_search_text(first_name: str, last_name: str, email: str, phone_digits: str) -> str:
    """Return the text a client is found by: names, email, phone digits and word starts."""
    parts = [_CONTROL.sub("", text).lower() for text in (first_name, last_name, email)]
    starts: list[str] = []
    for part in parts:
        for word in _WORD_BREAKS.split(part):
            token = WORD_START_MARK + word[:PREFIX_LENGTH]
            if word and token not in starts:
                starts.append(token)
    return " ".join([*parts, _NOT_A_DIGIT.sub("", phone_digits), *starts])


@dataclass(frozen=True)
class SearchWord:
    """One typed word, lower case, as it is looked for in clients' search text."""

    text: str

    @property
    def anywhere(self) -> bool:
        """Whether the word is looked for anywhere, not only at a word start."""
        return len(self.text) >= MIN_ANYWHERE_LENGTH

    @property
    def needle(self) -> str:
        """Return what the search text must contain for the word to match."""
        return self.text if self.anywhere else WORD_START_MARK + self.text

    @property
    def phone_digits(self) -> str:
        """Return the digits that also find a phone number, or "" when too few or redundant.

        A word of digits alone is found in the phone's digits as part of the search text
        already, so only a word mixing digits with other characters ("555-0142") needs them.
        """
        digits = _NOT_A_DIGIT.sub("", self.text)
        if len(digits) < MIN_PHONE_DIGITS or digits == self.text:
            return ""
        return digits


def read_search_words(query: str) -> list[SearchWord]:
    """Return the words of a typed search (at most MAX_SEARCH_WORDS), lower case."""
    words = _CONTROL.sub(" ", query).split()[:MAX_SEARCH_WORDS]
    return [SearchWord(word.lower()) for word in words]


def fts5_query(words: list[SearchWord]) -> str:
    """Return an SQLite FTS5 query matching every word: each one a quoted phrase, plain text.

    Inside double quotes FTS5 reads nothing as syntax (AND, NEAR, *, ^, :), and a double
    quote is written twice. A phrase finds a substring with the trigram tokenizer.
    """

    def phrase(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    terms = []
    for word in words:
        if word.phone_digits:
            terms.append(f"({phrase(word.needle)} OR {phrase(word.phone_digits)})")
        else:
            terms.append(phrase(word.needle))
    return " AND ".join(terms)
