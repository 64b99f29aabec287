"""Where labctl keeps things: lab state (data dir), build cache, and its own files."""

import os
from pathlib import Path

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


def cache_home() -> Path:
    """Build outputs that survive clones (the offline bundle): LABCTL_CACHE, else XDG cache."""
    explicit = os.environ.get("LABCTL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "labctl"


def labs_dir() -> Path:
    return data_home() / "labs"
