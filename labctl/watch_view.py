"""The watch view, drawn from one snapshot of state: nodes, their app pods, the probe's last minute, the drill.

Pure: a WatchState in, a Rich renderable (terminal) or plain lines (no terminal) out,
so what a user sees mid-fault is tested from recorded state.
"""

import time
from dataclasses import dataclass, field
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

WINDOW_S = 60
# Latency (ms) thresholds for the bar heights; a bar taller than ▇ means over a second.
BARS = ((10, "▁"), (20, "▂"), (50, "▃"), (100, "▄"), (200, "▅"), (500, "▆"), (1000, "▇"))
FAILED = "×"

Cell = tuple[bool, float | None] | None


@dataclass
class ProbeWindow:
    """One probe target over the last minute: one cell per second (None: no sample that second)."""

    name: str
    cells: list[Cell]
    samples: int
    ratio: float | None
    last_error: str | None

    @property
    def up(self) -> bool | None:
        last = next((c for c in reversed(self.cells) if c is not None), None)
        return None if last is None else last[0]


@dataclass
class WatchState:
    title: str
    now: float
    api_error: str | None = None
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    probes: list[ProbeWindow] = field(default_factory=list)
    drill: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "WatchState":
        """Recorded state: the probe's raw samples ([offset, ok, latency ms, error]) per target."""
        now = float(data["now"])
        return cls(
            title=data["title"],
            now=now,
            api_error=data.get("api_error"),
            nodes=data.get("nodes") or {},
            pods=data.get("pods") or {},
            probes=[probe_window(p["name"], p["samples"], float(p["started"]), now) for p in data.get("probes") or []],
            drill=data.get("drill"),
        )


def bar(ok: bool, latency: float | None) -> str:
    if not ok:
        return FAILED
    for limit, char in BARS:
        if latency is not None and latency <= limit:
            return char
    return "█"


def cells_of(samples: list[tuple[float, bool, float | None]], start: float, now: float) -> list[Cell]:
    """The last minute by second; a second with several samples shows its worst."""
    cells: list[Cell] = [None] * WINDOW_S
    origin = now - WINDOW_S
    for offset, ok, latency in samples:
        slot = int(start + offset - origin)
        if 0 <= slot < WINDOW_S:
            current = cells[slot]
            if current is None or (current[0] and not ok) or (current[0] == ok and (latency or 0) > (current[1] or 0)):
                cells[slot] = (ok, latency)
    return cells


def sparkline(samples: list[tuple[float, bool, float | None]], start: float, now: float) -> Text:
    return cells_text(cells_of(samples, start, now))


def cells_text(cells: list[Cell]) -> Text:
    text = Text()
    for cell in cells:
        if cell is None:
            text.append(" ")
        else:
            text.append(bar(*cell), style="green" if cell[0] else "bold red")
    return text


def probe_window(name: str, samples: list[list[Any]], started: float, now: float) -> ProbeWindow:
    recent = [s for s in samples if started + s[0] >= now - WINDOW_S]
    successes = sum(1 for s in recent if s[1])
    last_error = next((s[3] for s in reversed(recent) if not s[1]), None)
    return ProbeWindow(
        name=name,
        cells=cells_of([(s[0], bool(s[1]), s[2]) for s in recent], started, now),
        samples=len(recent),
        ratio=successes / len(recent) if recent else None,
        last_error=last_error,
    )


def node_status(node: dict[str, Any]) -> str:
    """As kubectl prints it."""
    status = "Ready" if node.get("ready") else "NotReady"
    return status + (",SchedulingDisabled" if node.get("unschedulable") else "")


def pod_style(status: str) -> str:
    if status == "Running":
        return "green"
    if status in ("Succeeded", "Completed"):
        return "dim"
    if status in ("Failed", "Unknown", "Error", "CrashLoopBackOff") or "Err" in status:
        return "red"
    return "yellow"


def clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def ratio_text(ratio: float | None) -> str:
    return "  -" if ratio is None else f"{ratio * 100:3.0f}%"


def header(state: WatchState) -> Text:
    text = Text.assemble(("labctl watch", "bold"), f" · {state.title} · {clock(state.now)} · API ")
    if state.api_error:
        text.append(f"unreachable ({state.api_error})", style="bold red")
    else:
        text.append("reachable", style="green")
    drill = state.drill
    if drill:
        text.append("\n")
        text.append(f"drill {drill['id']}", style="bold")
        phase = drill.get("phase") or "starting"
        text.append(" · phase ")
        text.append(phase, style="bold cyan")
        if drill.get("phase_started"):
            text.append(f" for {state.now - drill['phase_started']:.0f}s")
        text.append(f" · {state.now - drill['started']:.0f}s elapsed")
    return text


def nodes_table(state: WatchState) -> Table:
    table = Table("node", "status", "role", "app pods", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    by_node: dict[str | None, list[tuple[str, dict[str, Any]]]] = {}
    for name, pod in sorted(state.pods.items()):
        by_node.setdefault(pod.get("node"), []).append((name, pod))
    for name, node in sorted(state.nodes.items()):
        status = node_status(node)
        style = "green" if node.get("ready") else "bold red"
        if node.get("unschedulable"):
            style = "yellow" if node.get("ready") else style
        table.add_row(name, Text(status, style=style), node.get("role", ""), pods_text(by_node.get(name, [])))
    orphans = [(n, p) for n, p in by_node.items() if n not in state.nodes]
    for node_name, pods in orphans:
        label = node_name if node_name else "(not scheduled)"
        table.add_row(label, Text("", style="dim"), "", pods_text(pods))
    return table


def pods_text(pods: list[tuple[str, dict[str, Any]]]) -> Text:
    text = Text()
    width = max((len(n) for n, _ in pods), default=0)
    for i, (name, pod) in enumerate(pods):
        if i:
            text.append("\n")
        status = str(pod.get("status", ""))
        text.append(name.ljust(width) + "  ")
        text.append(status, style=pod_style(status))
    return text or Text("-", style="dim")


def probes_table(state: WatchState) -> Table:
    table = Table("probe", f"last {WINDOW_S}s (bar height: latency, {FAILED}: failed)", "ok", "last error",
                  box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for window in state.probes:
        ratio = ratio_text(window.ratio)
        ok_style = "green" if window.ratio == 1 else "bold red"
        table.add_row(window.name, cells_text(window.cells), Text(ratio, style=ok_style), window.last_error or "")
    return table


def drill_section(state: WatchState) -> Text:
    drill = state.drill
    assert drill is not None
    text = Text.assemble(("target ", "dim"), drill.get("target", ""), ("   task ", "dim"), drill.get("task") or "…")
    instants = sorted((drill.get("instants") or {}).items(), key=lambda kv: kv[1])
    text.append("\ninstants ", style="dim")
    if not instants:
        text.append("none yet", style="dim")
    for name, at in instants:
        text.append(f"\n  {name:<28} {clock(at)}  +{at - drill['started']:.1f}s")
    return text


def render(state: WatchState) -> RenderableType:
    parts: list[RenderableType] = [header(state), nodes_table(state)]
    if state.probes:
        parts.append(probes_table(state))
    if state.drill:
        parts.append(drill_section(state))
    return Group(*parts)


def plain_lines(before: WatchState | None, after: WatchState) -> list[str]:
    """What changed, one line each (everything, the first time): the no-terminal form of the view."""
    stamp = clock(after.now)
    lines: list[str] = []
    if before is None or before.api_error != after.api_error:
        lines.append(f"API unreachable: {after.api_error}" if after.api_error else "API reachable")
    old_nodes = before.nodes if before else {}
    for name, node in sorted(after.nodes.items()):
        if name not in old_nodes or node_status(old_nodes[name]) != node_status(node):
            lines.append(f"node {name} {node_status(node)}")
    for name in sorted(set(old_nodes) - set(after.nodes)):
        lines.append(f"node {name} gone")
    old_pods = before.pods if before else {}
    for name, pod in sorted(after.pods.items()):
        old = old_pods.get(name)
        if old is None or (old.get("node"), old.get("status")) != (pod.get("node"), pod.get("status")):
            lines.append(f"pod {name} on {pod.get('node') or '(not scheduled)'} {pod.get('status')}")
    for name in sorted(set(old_pods) - set(after.pods)):
        lines.append(f"pod {name} gone")
    old_probes = {p.name: p for p in before.probes} if before else {}
    for window in after.probes:
        old_window = old_probes.get(window.name)
        if window.up is not None and (old_window is None or old_window.up != window.up):
            word = "up" if window.up else f"down ({window.last_error})"
            lines.append(f"probe {window.name} {word}, {ratio_text(window.ratio).strip()} ok in the last {WINDOW_S}s")
    if after.drill:
        drill = after.drill
        old_drill = before.drill if before and before.drill and before.drill.get("id") == drill["id"] else {}
        if drill.get("phase") and drill.get("phase") != old_drill.get("phase"):
            lines.append(f"drill {drill['id']} phase {drill['phase']}")
        old_instants = old_drill.get("instants") or {}
        for name, at in sorted((drill.get("instants") or {}).items(), key=lambda kv: kv[1]):
            if name not in old_instants:
                lines.append(f"drill {drill['id']} instant {name} +{at - drill['started']:.1f}s")
    return [f"{stamp} {line}" for line in lines]
