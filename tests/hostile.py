"""The hostile-text corpus (SECURITY.md A): every view and export test uses these strings."""

from __future__ import annotations

HOSTILE = {
    "click_action": "[@click=app.quit]x[/]",
    "bad_markup": "[/oops]",
    "todo_brackets": "[TODO] fix [b]this[/b]",
    "osc52_clipboard": "\x1b]52;c;SGk=\x07",
    "csi_8bit": "\x9b31mred",
    "csi_7bit": "\x1b[2J\x1b[31mcleared",
    "bidi_override": "abc\u202edcba",
    "lone_surrogate": "bad\ud800text",
    "nul_and_bell": "a\x00b\x07c",
    "very_long": "Ł" * 10_000,
    "cjk_rtl": "王小明 مرحبا",
    "csv_formula": '=HYPERLINK("http://x")',
    "empty": "",
    # Added for the walk through every page (tests/test_hostile_walk.py).
    "c1_controls": "next\x85line\x90dcs\x9d0;title\x9c",
    "osc8_hyperlink": "\x1b]8;;https://evil.example\x1b\\click me\x1b]8;;\x1b\\",
    "markup_variables": "[$accent]themed[/] [link='https://evil.example']link[/link] [on red]x",
    "csv_prefixes": "+cmd|' /C calc'!A0 -2+3 @SUM(A1)",
    "csv_hidden_formula": "  \t=1+1",
    "newlines": "first\nsecond\r\nthird",
    "zero_width": "in\u200bvis\u200dible\ufeff",
    "combining": "Z\u0335\u0321a\u0338\u0327l\u0337g\u0334o",
    "emoji": "\U0001f600 \U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f1e8\U0001f1ed",
    "pdf_syntax": ") Tj ET (\\\\) %%EOF endstream \uffff",
    "rtl_isolates": "\u2067rtl\u2069 \u200fmark \u05e2\u05d1\u05e8\u05d9\u05ea",
}
# What the reference server cannot store (SQLite rejects lone surrogates; names must not be
# empty): tests that seed the server skip these, the client-side tests keep them.
UNSTORABLE = frozenset({"lone_surrogate", "empty"})
# Bytes that must never reach the terminal because of data (ESC, the 8-bit CSI, BEL).
FORBIDDEN_OUTPUT = (b"]52;", "\x9b".encode(), "\u202e".encode())
