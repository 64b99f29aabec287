"""Where labctl keeps things: lab state (data dir), build cache, and its own files."""

import os
import tempfile
from pathlib import Path

from labctl.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS_DIR = PROJECT_ROOT / "playbooks"
ROLES_DIR = PROJECT_ROOT / "roles"
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"


def data_home() -> Path:
    """Root of all labs: LABCTL_HOME, else the XDG data dir."""
    explicit = os.environ.get("LABCTL_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "labctl"


HOME_FIX = "set LABCTL_HOME to a directory you can write (or unset it)"


def _home_name(home: Path) -> str:
    return f"LABCTL_HOME {home}" if os.environ.get("LABCTL_HOME") else f"labctl's data directory {home} (LABCTL_HOME unset)"


def data_home_problem(home: Path) -> str | None:
    """Why HOME cannot hold labs (a file, not writable), or None; creates nothing."""
    if home.exists() and not home.is_dir():
        return f"{_home_name(home)} is a file, not a directory"
    probe = home
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        # Permission bits do not tell root about read-only mounts: try it.
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as error:
        return f"{_home_name(home)} is not writable ({error.strerror})"
    return None


def check_data_home() -> Path:
    """The data home, refused when it cannot be one (a file): every lab command reads under it."""
    home = data_home()
    if home.exists() and not home.is_dir():
        raise UsageError(f"{data_home_problem(home)} — {HOME_FIX}")
    return home


def ensure_data_home() -> Path:
    """The data home as a directory this process can write, created when missing."""
    home = data_home()
    problem = data_home_problem(home)
    if problem:
        raise UsageError(f"{problem} — {HOME_FIX}")
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{_home_name(home)} cannot be created ({error.strerror}) — {HOME_FIX}") from None
    return home


def cache_home() -> Path:
    """Build outputs that survive clones (the offline bundle): LABCTL_CACHE, else XDG cache."""
    explicit = os.environ.get("LABCTL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "labctl"


def labs_dir() -> Path:
    return data_home() / "labs"
