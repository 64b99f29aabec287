"""The end of a log file: what a process last wrote, for a one-line message about it."""

import re
from pathlib import Path

# Enough for the last few lines of any log labctl reads back; a long log is not read whole.
TAIL_BYTES = 4096

# A node's console is a terminal to the systemd that writes it: its status lines carry colour codes.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def last_lines(log: Path, count: int = 1, width: int = 300) -> list[str]:
    """The last COUNT non-blank lines of LOG without colour codes, each cut to WIDTH characters; none when LOG
    cannot be read (a log removed with its lab says nothing)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - TAIL_BYTES))
            text = handle.read().decode(errors="replace")
    except OSError:
        return []
    lines = [ANSI_ESCAPE.sub("", line).strip() for line in text.splitlines()]
    return [line[:width] for line in lines if line][-count:]
