"""The terminal view of drill results, shown after `labctl drill` and by `labctl results ID`.

Everything a result holds that came from the drill (descriptions, observed
values, error messages) is escaped before it reaches Rich: a `[red]` in a pod
name must print as text, not as markup.
"""

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from labctl.report import (
    NONE,
    duration_rows,
    duration_s,
    expectation_counts,
    fmt_offset,
    fmt_ratio,
    fmt_score,
    fmt_seconds,
    fmt_value,
    humanize,
    instant_rows,
    offset_s,
    score_rows,
    targets,
    verdict_reason,
)
from labctl.score import of as score_of
from labctl.score import suite as suite_score

VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "error": "bold yellow"}


def _verdict(verdict: str) -> str:
    return f"[{VERDICT_STYLE.get(verdict, 'bold yellow')}]{escape(verdict.upper())}[/]"


def _check(flag: object) -> str:
    return "[green]✓[/]" if flag else "[red]✗[/]"


def render_results(console: Console, results: list[dict[str, Any]]) -> None:
    """Print each result in full, then (for several) a one-line tally."""
    for index, result in enumerate(results):
        if index:
            console.print()
        _render_one(console, result)
    if len(results) > 1:
        tally = ", ".join(f"{sum(1 for r in results if r.get('verdict') == v)} {_verdict(v)}" for v in ("pass", "fail", "error"))
        total = fmt_seconds(sum(duration_s(r) or 0.0 for r in results))
        console.print()
        overall = fmt_score(suite_score(results)["value"])
        console.print(f"[bold]{len(results)} drills[/]: {tally} in {total} · [bold]suite score {overall}/100[/]")


def _render_one(console: Console, result: dict[str, Any]) -> None:
    verdict = str(result.get("verdict", "error"))
    met, total = expectation_counts(result)
    console.rule(
        f"[bold]{escape(str(result.get('drill', '?')))}[/]  {_verdict(verdict)}  {fmt_seconds(duration_s(result))}  "
        f"score {fmt_score(score_of(result)['value'])}",
        align="left",
        style=VERDICT_STYLE.get(verdict, "yellow").replace("bold ", ""),
    )
    console.print(
        f"[dim]result {escape(str(result.get('id', '?')))} · lab {escape(str(result.get('lab', '?')))} · "
        f"{escape(str(result.get('provider', '?')))} · Kubernetes {escape(str(result.get('kubernetes_version', '?')))} · "
        f"started {escape(str(result.get('started') or NONE))}[/]"
    )
    reason = verdict_reason(result)
    if reason:
        label = "error" if verdict == "error" else "why it failed"
        console.print(f"[{VERDICT_STYLE.get(verdict, 'yellow')}]{label}:[/] {escape(reason)}")
    if result.get("expectations"):
        console.print(_expectations_table(result, met, total))
    timings = _timings_table(result)
    if timings is not None:
        console.print(timings)
    if instant_rows(result):
        console.print(
            "[bold]instants[/] " + " · ".join(f"{escape(humanize(name))} {fmt_offset(off)}" for name, _at, off in instant_rows(result))
        )
    availability = _availability_table(result)
    if availability is not None:
        console.print(availability)
    troubled = [p for p in result.get("phases") or [] if p.get("status") != "ok"]
    if troubled:
        console.print("[bold]phases[/] " + " · ".join(_phase_text(p) for p in troubled))
    console.print(_score_table(result))
    restore = result.get("restore") or {}
    # Some drills have nothing to undo (pod-kill): "not performed" is not a failure, only "not verified" is.
    performed = "[green]yes[/]" if restore.get("performed") else "[dim]no (nothing to undo)[/]"
    console.print(f"[bold]restore[/] performed {performed} · cluster verified healthy {_check(restore.get('verified'))}")
    if result.get("path"):
        console.print(f"[dim]stored in {escape(str(result['path']))}[/]")


def _phase_text(phase: dict[str, Any]) -> str:
    colour = "red" if phase.get("status") == "failed" else "dim"
    message = f": {escape(str(phase['message']))}" if phase.get("message") else ""
    return f"{escape(str(phase.get('name', '?')))} [{colour}]{escape(str(phase.get('status', '?')))}[/]{message}"


def _expectations_table(result: dict[str, Any], met: int, total: int) -> Table:
    table = Table(
        title=f"expectations {met}/{total} met",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("", width=1)
    table.add_column("description", ratio=3)
    table.add_column("expected", ratio=2, overflow="fold")
    table.add_column("observed", ratio=2, overflow="fold")
    table.add_column("at", justify="right", no_wrap=True)
    for expectation in result.get("expectations") or []:
        table.add_row(
            _check(expectation.get("met")),
            escape(str(expectation.get("description", ""))),
            escape(fmt_value(expectation.get("expected"))),
            escape(fmt_value(expectation.get("observed"))),
            fmt_offset(offset_s(result, expectation.get("at"))),
            style=None if expectation.get("met") else "red",
        )
    return table


def _timings_table(result: dict[str, Any]) -> Table | None:
    rows = duration_rows(result)
    if not rows:
        return None
    table = Table(title="timings", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("duration")
    table.add_column("observed", justify="right")
    table.add_column("expected", justify="right")
    for name, observed, expected in rows:
        late = observed is not None and expected is not None and observed > expected
        table.add_row(
            escape(humanize(name)), f"[yellow]{fmt_seconds(observed)}[/]" if late else fmt_seconds(observed), fmt_seconds(expected)
        )
    return table


def _availability_table(result: dict[str, Any]) -> Table | None:
    lanes = targets(result)
    if not lanes:
        return None
    table = Table(title="availability", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("target")
    table.add_column("up", justify="right")
    table.add_column("longest outage", justify="right")
    table.add_column("samples", justify="right")
    for target in lanes:
        outage = target.get("longest_outage_s") or 0
        style = "red" if outage else None
        table.add_row(
            escape(str(target.get("name", "?"))),
            fmt_ratio(target.get("success_ratio")),
            fmt_seconds(target.get("longest_outage_s")),
            f"{target.get('successes', 0)}/{target.get('samples', 0)}",
            style=style,
        )
    return table


def _score_table(result: dict[str, Any]) -> Table:
    card = score_of(result)
    title = f"score {fmt_score(card['value'])}/100" + (f" — {card['gate']}" if card.get("gate") else "")
    table = Table(title=escape(title), title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("component")
    table.add_column("weight", justify="right")
    table.add_column("value", justify="right")
    table.add_column("points", justify="right")
    table.add_column("detail", overflow="fold")
    for row in score_rows(result):
        style = None if row["scored"] else "dim"
        table.add_row(row["name"], row["weight"], row["value"], row["points"], escape(row["detail"]), style=style)
    return table
