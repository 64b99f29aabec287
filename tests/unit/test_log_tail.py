"""The end of a log, as labctl quotes it in one-line messages (a node's console, a go build, a class board)."""

from pathlib import Path

from labctl.log_tail import TAIL_BYTES, last_lines


def test_the_last_non_blank_lines_without_colour_codes(tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    log.write_text("one\n\n[\x1b[0;32m  OK  \x1b[0m] Reached target Multi-User System.\n   \n")
    assert last_lines(log) == ["[  OK  ] Reached target Multi-User System."]
    assert last_lines(log, 3) == ["one", "[  OK  ] Reached target Multi-User System."]


def test_lines_are_cut_to_the_width_and_a_long_log_is_read_from_its_end(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("first line, far before the end\n" + "x" * (2 * TAIL_BYTES) + "\n" + "y" * 500 + "\n")
    assert last_lines(log, 5, width=40) == ["x" * 40, "y" * 40]


def test_a_log_that_is_gone_says_nothing(tmp_path: Path) -> None:
    assert last_lines(tmp_path / "removed-with-its-lab.log") == []
