"""Filter labctl.lab.elapsed_s: seconds between two drill instants, whatever their format."""

from typing import Any


def elapsed_s(start: Any, end: Any) -> float | None:
    """`{{ detected_at | labctl.lab.elapsed_s(evicted_at) }}`: END − START to a tenth, none when either is missing."""
    from labctl.drill_record import elapsed_s as between

    return between(start, end)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"elapsed_s": elapsed_s}
