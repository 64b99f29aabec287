"""What labctl remembers of a class: how its labs are made and which students it has."""

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labctl.atomic_file import write_atomic
from labctl.classroom.roster import Student, lab_name, validate_class_name
from labctl.errors import UsageError
from labctl.paths import data_home


def class_dir(name: str) -> Path:
    return data_home() / "classes" / validate_class_name(name)


@dataclass
class ClassRecord:
    name: str
    provider: str = "local"
    # Passed to every student's `labctl up`: a config file, topology and pace.
    up_args: list[str] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return class_dir(self.name) / "class.json"

    @property
    def logs_dir(self) -> Path:
        return class_dir(self.name) / "logs"

    def lab_of(self, student: str) -> str:
        return lab_name(self.name, student)

    def student(self, student: str) -> Student:
        for known in self.students:
            if known.id == student:
                return known
        raise UsageError(f"class {self.name} has no student '{student}': see `labctl class status {self.name}`")

    def save(self) -> None:
        data = {"name": self.name, "provider": self.provider, "up_args": self.up_args, "students": [asdict(s) for s in self.students]}
        write_atomic(self.path, json.dumps(data, indent=2) + "\n", mode=0o600)

    def delete(self) -> None:
        """Remove the class's whole directory: predictions, logs and scoreboard left behind would be
        taken up by a later class of the same name."""
        # A removal that fails must say so: what it left is what a later class would inherit.
        if class_dir(self.name).exists():
            shutil.rmtree(class_dir(self.name))


def load(name: str) -> ClassRecord:
    path = class_dir(name) / "class.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"no class named {name}: run `labctl class up {name} --roster FILE`") from None
    return ClassRecord(data["name"], data["provider"], list(data["up_args"]), [Student(**s) for s in data["students"]])


def exists(name: str) -> bool:
    return (class_dir(name) / "class.json").exists()
