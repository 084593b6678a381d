"""Text helpers shared by the channel adapters: splitting to a platform's limit, and options
for channels without buttons."""

from __future__ import annotations

import unicodedata

from scheduler.messages import ButtonRows

NUMBERED_HINT = "Trả lời bằng số thứ tự."


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram (and Zalo's JavaScript) count: an emoji
    may count twice."""
    return len(text.encode("utf-16-le")) // 2


def longest_prefix(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int) -> list[str]:
    """Split at line breaks (or spaces) into pieces of at most ``limit`` UTF-16 code units.

    Never returns an empty piece: platforms refuse empty messages.
    """
    text = text.strip() or "…"
    pieces: list[str] = []
    while utf16_length(text) > limit:
        fit = longest_prefix(text, limit)
        cut = text.rfind("\n", 0, fit)
        if cut < fit // 2:
            cut = text.rfind(" ", 0, fit)
        if cut < fit // 2:
            cut = _cluster_start(text, fit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return [piece for piece in pieces if piece]


_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}  # zero-width joiner, variation selectors


def _cluster_start(text: str, cut: int) -> int:
    """Move a hard cut back so it does not split a letter from its accents (decomposed
    Vietnamese) or an emoji sequence; as is if the whole prefix is one cluster."""
    index = cut
    while 0 < index < len(text) and (
        unicodedata.combining(text[index])
        or text[index] in _JOINERS
        or text[index - 1] == "\u200d"
        or 0x1F3FB <= ord(text[index]) <= 0x1F3FF  # skin tone modifiers
    ):
        index -= 1
    return index or cut


def render_options(buttons: ButtonRows, *, numbered: bool) -> list[str]:
    """Buttons for a channel without buttons.

    Answers to a question become numbered lines. Otherwise a button with a typed alternative
    says what to type, and the rest are listed as a hint of the values one can type. A link
    button is written out as its label and address (the user opens it).
    """
    everything = [button for row in buttons for button in row]
    options = [button for button in everything if button.url is None]
    links = [f"  • {b.label}: {b.url}" for b in everything if b.url is not None]
    if numbered:
        numbers = enumerate(options, start=1)
        return [f"  {index}. {button.label}" for index, button in numbers] + links
    lines = [f"  • {b.label}: gõ {b.typed}" for b in options if b.typed] + links
    hints = [b.label for b in options if not b.typed]
    if hints:
        lines.append("  (" + " · ".join(hints) + ")")
    return lines


def with_options(text: str, buttons: ButtonRows, *, numbered: bool) -> str:
    """A message with its options written out, for channels without buttons."""
    lines = render_options(buttons, numbered=numbered)
    if not lines:
        return text
    hint = [NUMBERED_HINT] if numbered else []
    return "\n".join([text, *lines, *hint])
