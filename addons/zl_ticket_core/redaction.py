# This file is part of zhonglian-ticketing. See README.md for the licence.
"""Identity numbers out of text bound for logs.

An 18-character resident ID (居民身份证) is determined by its first 17
digits (the 18th is a checksum), and Tryton's dispatcher logs RPC
arguments cut to 17 characters: redacting only whole, valid IDs is not
enough.  Any run of at least 14 digits is treated as ID-like: the
18-character ID and any prefix of it long enough to name a person (region,
birth date and part of the sequence number), the 15-digit IDs of before
1999, bank card numbers.  Digits may be written in groups separated by a
space or a hyphen (110105 19491231 002X) and in full-width forms (\\d).

No Tryton import: the rule is tested on its own (tests/test_redaction.py).
"""
import re

REDACTED = '[REDACTED]'
MIN_DIGITS = 14

# \d on purpose (not [0-9]): a full-width １１０… is the same number.
_ID_LIKE = re.compile(
    r'\d(?:[ \-]?\d){%d,}[XxＸｘ]?' % (MIN_DIGITS - 1))


def redact(text):
    "Return text with every ID-like digit run replaced by REDACTED"
    if not text or not isinstance(text, str):
        return text
    return _ID_LIKE.sub(REDACTED, text)


def has_id_like(text):
    return bool(text) and isinstance(text, str) and bool(
        _ID_LIKE.search(text))
