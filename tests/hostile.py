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
}
# Bytes that must never reach the terminal because of data (ESC, the 8-bit CSI, BEL).
FORBIDDEN_OUTPUT = (b"]52;", "\x9b".encode(), "\u202e".encode())
