"""Small text helpers for Vietnamese documents: normal forms, keys for matching, slugs, case."""

from __future__ import annotations

import re
import unicodedata

# Old-style tone placement ("hoà", "thuỷ") and new style ("hòa", "thủy") are the same word;
# only at the end of a syllable ("hoạch", "khoảng" are written alike in both styles).
_TONE_PLACEMENT = {
    "oà": "òa",
    "oá": "óa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oè": "òe",
    "oé": "óe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uỳ": "ùy",
    "uý": "úy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}
_TONE_PATTERN = re.compile("(?:" + "|".join(_TONE_PLACEMENT) + r")(?!\w)")
_DASHES = re.compile(r"\s*[-‐‑‒–—―]\s*")


def nfc(text: str) -> str:
    """Unicode NFC: Vietnamese typed with combining marks (NFD, CP1258) compares equal."""
    return unicodedata.normalize("NFC", text)


def collapse(text: str) -> str:
    """One space for every run of whitespace (line wraps, non-breaking spaces, tabs)."""
    return " ".join(text.split())


def match_key(text: str) -> str:
    """A key for comparing names: case, punctuation, dashes and tone placement ignored."""
    text = nfc(text).lower().replace("&", " và ")
    text = _TONE_PATTERN.sub(lambda m: _TONE_PLACEMENT[m.group(0)], text)
    text = _DASHES.sub(" ", text)
    text = re.sub(r"[,.;:()\"“”'’/]", " ", text)
    return collapse(text)


def ascii_fold(text: str) -> str:
    """Vietnamese without its marks: "Đông Hưng" → "Dong Hung"."""
    text = nfc(text).replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slug(text: str, limit: int = 64) -> str:
    """Lower-case ASCII words joined by "-": "Báo cáo sơ kết 6 tháng" → "bao-cao-so-ket-6-thang"."""
    words = re.findall(r"[a-z0-9]+", ascii_fold(text).lower())
    result = ""
    for word in words:
        candidate = f"{result}-{word}" if result else word
        if len(candidate) > limit:
            break
        result = candidate
    return result


def initials(text: str) -> str:
    """Upper-case ASCII initials: "Thái Bình" → "TB"."""
    return "".join(word[0] for word in re.findall(r"[A-Za-z0-9]+", ascii_fold(text))).upper()


def upper_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if c.isupper()) / len(letters)


def is_upper(text: str) -> bool:
    """Mostly capitals: a heading like "IV. TỔ CHỨC THỰC HIỆN" (a stray "và" is allowed)."""
    return upper_ratio(text) >= 0.85


def title_case(text: str) -> str:
    """A proper name from capitals: "THÁI BÌNH" → "Thái Bình"."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split())


def sentence_case(text: str, proper_names: tuple[str, ...] = ()) -> str:
    """Lower-case a title written in capitals, restoring the proper names given."""
    result = text.lower()
    for name in proper_names:
        result = re.sub(re.escape(name.lower()), name, result)
    return result


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word, with "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"
