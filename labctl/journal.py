"""The undo journal: what a drill is about to break, written before it breaks it.

An entry stays until the drill's own restore has been verified; whatever a
killed run leaves here, `labctl recover` undoes.
"""

import json
import time
import uuid
from typing import Any

from labctl.atomic_file import write_atomic
from labctl.lab import Lab


def entries(lab: Lab) -> list[dict[str, Any]]:
    try:
        data = json.loads(lab.journal_path.read_text())
    except FileNotFoundError:
        return []
    except ValueError:
        # A torn write cannot happen (atomic rename); an edited file is the user's to fix.
        return []
    return list(data.get("entries", []))


def _write(lab: Lab, items: list[dict[str, Any]]) -> None:
    write_atomic(lab.journal_path, json.dumps({"entries": items}, indent=2), mode=0o600)


def add(lab: Lab, drill: str, role: str, target: str, undo: str) -> dict[str, Any]:
    entry = {"id": uuid.uuid4().hex[:12], "drill": drill, "role": role, "target": target, "undo": undo, "since": time.time()}
    _write(lab, [*entries(lab), entry])
    return entry


def remove(lab: Lab, entry_ids: list[str]) -> None:
    remaining = [e for e in entries(lab) if e["id"] not in entry_ids]
    if remaining:
        _write(lab, remaining)
    else:
        lab.journal_path.unlink(missing_ok=True)
