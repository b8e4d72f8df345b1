"""Text that must show something. A name or an address made only of zero-width spaces, other Unicode
format or space characters, or fillers that draw nothing (U+3164 Hangul filler, U+2800 Braille blank)
looks empty on every page and list, yet is not empty to `str.strip()` or to a form's `required`."""

import unicodedata

# Control, format (zero-width space/joiners, BOM, bidi marks), and every space or separator.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Letters and symbols that render as blank.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Combining marks show nothing without a base character (they are kept at the end of a name: "é").
_MARK_CATEGORIES = frozenset({"Mn", "Me"})


def _invisible(char: str) -> bool:
    return char in _BLANK_GLYPHS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def strip_invisible(value: str) -> str:
    """`value` without invisible characters at either end (`str.strip()` keeps zero-width spaces)."""
    start, end = 0, len(value)
    while start < end and _invisible(value[start]):
        start += 1
    while end > start and _invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def only_invisible(value: str) -> bool:
    """Whether a non-empty `value` shows nothing at all."""
    return bool(value) and all(_invisible(c) or unicodedata.category(c) in _MARK_CATEGORIES for c in value)


def visible_text(value, label: str) -> tuple[str, str]:
    """(`value` stripped of invisible ends, "" or the Chinese error): a value of only invisible characters
    is refused with a message naming the field; an empty one is left to the caller's required check."""
    raw = "" if value is None else str(value)
    if only_invisible(raw) and raw.strip():
        return "", f"{label}不能只由空格或零宽字符等不可见字符组成"
    if only_invisible(raw):  # plain spaces: empty, the required check speaks
        return "", ""
    return strip_invisible(raw), ""
