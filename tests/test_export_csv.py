"""The one CSV writer: injection-safe cells, RFC 4180, BOM, atomic, private, streamed."""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from stratus_tui.export.atomic import locked_temp, remove_stale_temps
from stratus_tui.export.csv import ExportError, default_export_dir, neutralise, write_csv
from tests.hostile import HOSTILE

HEADER = ("name", "count")


def read_back(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


# --- neutralise ----------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_a_dangerous_first_character_gets_a_quote(prefix: str) -> None:
    cell = f"{prefix}cmd|' /C calc'!A0"
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t"])
def test_leading_spaces_do_not_hide_a_formula(prefix: str) -> None:
    assert neutralise(f"   {prefix}1+1") == f"'   {prefix}1+1"


def test_a_leading_nul_is_removed_and_does_not_hide_a_formula() -> None:
    assert neutralise("\x00=SUM(A1)") == "'=SUM(A1)"
    assert neutralise("a\x00b\x00") == "ab"


@pytest.mark.parametrize("phone", ["+41446681800", "+12025550123", "+4915112345678"])
def test_e164_phone_numbers_stay_readable(phone: str) -> None:
    assert neutralise(phone) == phone


# Not E.164 (a leading 0, 16 digits), but still only a sign and digits: kept.
@pytest.mark.parametrize(
    "number", ["-12", "+3", "-0.5", "42", "+7.25", "+0123", "+1234567890123456"]
)
def test_plain_signed_numbers_are_kept(number: str) -> None:
    assert neutralise(number) == number


@pytest.mark.parametrize(
    "cell",
    [
        "-@x",
        "+41 44 668 18 00",  # not exact E.164: spaces
        "-1+1",
        "+41446681800\n=1",  # a phone number with something after it
        "-1e5",
        "=1",
        "@SUM(A1)",
        "-٣",  # an Arabic-Indic digit is not [0-9]
    ],
)
def test_look_alikes_of_numbers_are_neutralised(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


def test_harmless_text_is_unchanged() -> None:
    for cell in ("Zoë", "王小明", "a=b", "plain text", " leading space", "", "'quoted"):
        assert neutralise(cell) == cell


def test_values_that_are_not_text() -> None:
    assert neutralise(None) == ""
    assert neutralise(True) == "true"
    assert neutralise(False) == "false"
    assert neutralise(-3) == "-3"  # a number of ours, not text
    assert neutralise(2.5) == "2.5"
    assert neutralise(Decimal("-1.5")) == "-1.5"
    assert neutralise(dt.date(2026, 7, 1)) == "2026-07-01"
    moment = dt.datetime(2026, 7, 1, 8, 30, tzinfo=dt.UTC)
    assert neutralise(moment) == "2026-07-01T08:30:00+00:00"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert neutralise("bad\ud800text") == "bad\ufffdtext"
    assert neutralise("=\udfff") == "'=\ufffd"


# --- write_csv -----------------------------------------------------------------------------


def test_the_hostile_corpus_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    rows = [[name, text, text] for name, text in HOSTILE.items()]
    assert write_csv(path, (*HEADER, "again"), rows) == len(rows)
    back = read_back(path)
    assert back[0] == ["name", "count", "again"]
    assert back[1:] == [[neutralise(cell) for cell in row] for row in rows]
    by_name = {row[0]: row[1] for row in back[1:]}
    assert by_name["csv_formula"] == "'" + HOSTILE["csv_formula"]
    assert by_name["osc52_clipboard"] == HOSTILE["osc52_clipboard"]  # data, kept as data
    assert by_name["nul_and_bell"] == "ab\x07c"
    assert by_name["lone_surrogate"] == "bad\ufffdtext"


def test_rfc_4180_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "rfc.csv"
    write_csv(path, HEADER, [['say "hi", then', 1], ["two\nlines", 2], ["Zoë", 3]])
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:].decode() == (
        'name,count\r\n"say ""hi"", then",1\r\n"two\nlines",2\r\nZoë,3\r\n'
    )


def test_files_are_private_and_a_missing_folder_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "out.csv"
    write_csv(path, HEADER, [["a", 1]])
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    # Replacing a file that others could read leaves a private one.
    other = tmp_path / "shared.csv"
    other.write_text("old")
    other.chmod(0o644)
    write_csv(other, HEADER, [])
    assert other.stat().st_mode & 0o777 == 0o600


def test_an_existing_folder_keeps_its_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "Downloads"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    write_csv(folder / "x.csv", HEADER, [])
    assert folder.stat().st_mode & 0o777 == 0o755


def test_an_error_midway_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    write_csv(path, HEADER, [["old", 1]])
    before = path.read_bytes()

    def rows() -> Iterator[list[object]]:
        for number in range(50_000):
            if number == 25_000:
                raise RuntimeError("the cache went away")
            yield [f"row {number}", number]

    with pytest.raises(RuntimeError, match="the cache went away"):
        write_csv(path, HEADER, rows())
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_an_interrupt_midway_leaves_no_file_at_all(tmp_path: Path) -> None:
    def rows() -> Iterator[list[object]]:
        yield ["one", 1]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_csv(tmp_path / "new.csv", HEADER, rows())
    assert list(tmp_path.iterdir()) == []


def test_streaming_a_generator_with_progress(tmp_path: Path) -> None:
    produced = 0

    def rows() -> Iterator[tuple[object, ...]]:
        nonlocal produced
        for number in range(200_000):
            produced += 1
            yield (f"agent {number}", number)

    seen: list[int] = []

    def progress(count: int) -> None:
        seen.append(count)
        assert count == produced  # written as produced: nothing is collected first

    path = tmp_path / "big.csv"
    assert write_csv(path, HEADER, rows(), progress=progress) == 200_000
    assert seen == list(range(10_000, 200_001, 10_000))
    with path.open(encoding="utf-8-sig", newline="") as stream:
        assert sum(1 for _ in csv.reader(stream)) == 200_001


def test_a_folder_as_the_target_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="it is a folder"):
        write_csv(tmp_path, HEADER, [])


def test_a_file_in_place_of_the_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        write_csv(blocker / "out.csv", HEADER, [])


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExportError, match=r"cannot create a file in .*locked.*permission"):
            write_csv(locked / "out.csv", HEADER, [])
    finally:
        locked.chmod(0o700)


def test_a_refused_temp_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    def refuse(**_: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ExportError) as caught:
        write_csv(tmp_path / "out.csv", HEADER, [])
    assert str(caught.value) == f"cannot create a file in {tmp_path}: permission denied"


def test_a_failing_rename_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()

    def fail_replace(*_: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "replace", fail_replace)
        with pytest.raises(ExportError, match="no space left on device"):
            write_csv(folder / "x.csv", HEADER, [["a", 1]])
    assert list(folder.iterdir()) == []


def test_the_default_folder_falls_back_to_documents_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    downloads, documents = tmp_path / "Downloads", tmp_path / "Documents"
    monkeypatch.setattr(platformdirs, "user_downloads_dir", lambda: str(downloads))
    monkeypatch.setattr(platformdirs, "user_documents_dir", lambda: str(documents))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_export_dir() == tmp_path
    documents.mkdir()
    assert default_export_dir() == documents
    downloads.mkdir()
    assert default_export_dir() == downloads


def test_the_next_export_removes_what_a_killed_one_left_and_nothing_else(tmp_path: Path) -> None:
    """kill -9 runs no clean-up: its temp file stays, unlocked (the kernel dropped the lock
    with the process). The next export to that file removes it; other files stay."""
    stale = tmp_path / ".out.csv.k1ll3d.tmp"
    stale.write_bytes(b"half a fi")
    others = [tmp_path / ".other.csv.a1b2c3.tmp", tmp_path / "out.csv.tmp", tmp_path / "x.tmp"]
    for other in others:
        other.write_bytes(b"not ours")
    write_csv(tmp_path / "out.csv", HEADER, [])
    assert not stale.exists() and all(other.exists() for other in others)


def test_a_temp_file_a_live_export_holds_is_left_alone(tmp_path: Path) -> None:
    """Held by this process, then only by a child that inherited it (a helper writing a
    part): never removed while someone holds it; removed once nobody does."""
    descriptor, temp = locked_temp(tmp_path, ".out.csv.")
    assert temp.name.startswith(".out.csv.") and temp.stat().st_mode & 0o777 == 0o600
    assert remove_stale_temps(tmp_path / "out.csv") == []
    child = subprocess.Popen(["sleep", "60"], pass_fds=(descriptor,))
    try:
        os.close(descriptor)
        assert remove_stale_temps(tmp_path / "out.csv") == []
    finally:
        child.kill()
        child.wait()
    assert remove_stale_temps(tmp_path / "out.csv") == [temp]
