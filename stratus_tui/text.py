"""Turn untrusted text (from the server, from files) into text that is safe to display.

Names, customer identifiers and chat messages come from other people. Shown raw, ESC and
CSI sequences reach the terminal (OSC 52 even writes the clipboard), and bidi overrides
reorder what the reader sees (SECURITY.md A2). ``clean`` keeps every printable character
and makes the rest visible instead of active:

- C0 controls become Unicode "control pictures" (ESC shows as ␛), so an admin can see
  that something odd was in a name; tab and newline are kept only where asked for.
- C1 controls, bidi embedding/override/isolate marks and unpaired surrogates become �.
- Line and paragraph separators become spaces.

Markup is not this module's concern: the UI renders the result as plain Content, never as
markup (see ``widgets/safe.py``).
"""

from __future__ import annotations

from functools import cache

REPLACEMENT = "\ufffd"
ELLIPSIS = "…"
BIDI_CONTROLS = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])


@cache
def _table(keep: str) -> dict[int, str]:
    table: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)}
    table[0x7F] = "\u2421"  # ␡
    table.update({code: REPLACEMENT for code in range(0x80, 0xA0)})
    table.update({code: REPLACEMENT for code in BIDI_CONTROLS})
    table.update({code: REPLACEMENT for code in range(0xD800, 0xE000)})
    table[0x2028] = " "
    table[0x2029] = " "
    for character in keep:
        table.pop(ord(character), None)
    return table


def clean(text: object, *, keep: str = "", max_length: int | None = None) -> str:
    """``text`` made safe to show; ``keep`` names control characters to leave (e.g. "\\n").

    ``max_length`` cuts very long values (a 10,000-character name) with an ellipsis.
    """
    value = text if isinstance(text, str) else "" if text is None else str(text)
    value = value.translate(_table(keep))
    if max_length is not None and len(value) > max_length:
        value = value[: max(max_length - 1, 0)] + ELLIPSIS
    return value
