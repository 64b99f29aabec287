"""The class roster: a CSV with a student id column (`student` or `id`), `name` and `email` optional."""

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from labctl.errors import UsageError
from labctl.lab import NAME_PATTERN

CLASS_PATTERN = re.compile(r"^[a-z][a-z0-9]{0,9}$")
STUDENT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,18}$")
ID_COLUMNS = ("student", "id")


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""


def validate_class_name(name: str) -> str:
    if not CLASS_PATTERN.match(name):
        raise UsageError(f"invalid class name '{name}': use 1-10 lowercase letters or digits, starting with a letter")
    return name


def lab_name(class_name: str, student: str) -> str:
    return f"{class_name}-{student}"


def _field(row: dict[str, str | None], header: dict[str, str], name: str) -> str:
    return (row.get(header[name]) or "").strip() if name in header else ""


def read_roster(path: Path, class_name: str) -> list[Student]:
    """The roster's students, in file order; every problem is one line naming the row and the fix."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"roster {path} does not exist: pass --roster with a CSV file of students") from None
    except IsADirectoryError:
        raise UsageError(f"roster {path} is a directory: pass --roster with a CSV file of students") from None
    except UnicodeDecodeError:
        raise UsageError(f"roster {path} is not a UTF-8 text file: save it as CSV (UTF-8)") from None
    reader = csv.DictReader(io.StringIO(text))
    header = {key.strip().lower(): key for key in reader.fieldnames or [] if key}
    rows = list(reader)
    column = next((header[c] for c in ID_COLUMNS if c in header), None)
    if column is None:
        raise UsageError(f"roster {path} has no student id column: name one column 'student' (or 'id') in its first line")
    students: list[Student] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        student = (row.get(column) or "").strip().lower()
        if not student:
            continue
        if not STUDENT_PATTERN.match(student):
            raise UsageError(
                f"roster {path} line {line}: student id '{student}' cannot name a lab: use lowercase letters, digits or '-'"
            )
        if not NAME_PATTERN.match(lab_name(class_name, student)):
            raise UsageError(
                f"roster {path} line {line}: lab name '{lab_name(class_name, student)}' is longer than 20 characters: "
                "use a shorter class name or student id"
            )
        if student in seen:
            raise UsageError(f"roster {path} line {line}: student '{student}' is listed twice: keep one line per student")
        seen.add(student)
        students.append(Student(student, _field(row, header, "name"), _field(row, header, "email")))
    if not students:
        raise UsageError(f"roster {path} lists no students: add one line per student under the '{column}' column")
    return students
