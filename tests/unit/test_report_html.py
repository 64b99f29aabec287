"""The HTML report: every drill shown, self-contained, escaped, with a marker per instant."""

import itertools
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from labctl.report.html import _runs, _stagger, timeline_svg, to_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
ORDER = ("pod-kill-pass.json", "worker-failure-fail.json", "scheduler-down-pass.json", "etcd-backup-restore-error.json")


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def results() -> list[dict[str, Any]]:
    return [load(n) for n in ORDER]


class Page(HTMLParser):
    """What a browser would see: tags, their attributes, and which drill section each marker sits in."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.section: str | None = None
        self.markers: dict[str, list[str]] = {}
        self.cells: dict[str, list[str]] = {}
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "section" and attributes.get("id"):
            self.section = attributes["id"]
        if self.section and tag == "g" and "marker" in (attributes.get("class") or ""):
            self.markers.setdefault(self.section, []).append(attributes.get("data-instant") or "")
        if self.section and tag == "rect" and "cell" in (attributes.get("class") or ""):
            self.cells.setdefault(self.section, []).append(attributes.get("class") or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else len(html)]


def test_every_drill_has_a_summary_row_and_a_section(results: list[dict[str, Any]]) -> None:
    html = to_html(results)
    page = Page(html)
    sections = [a["id"] or "" for t, a in page.tags if t == "section" and a.get("id")]
    assert sections == ["d0-pod-kill", "d1-worker-failure", "d2-scheduler-down", "d3-etcd-backup-restore"]
    links = [a["href"] for t, a in page.tags if t == "a"]
    assert links == [f"#{s}" for s in sections]
    for anchor, result in zip(sections, results, strict=True):
        part = section(html, anchor)
        assert f"<h2>{result['drill']}</h2>" in part
        assert f'<span class="badge {result["verdict"]}">{result["verdict"]}</span>' in part
        assert result["id"] in part


def test_is_self_contained(results: list[dict[str, Any]]) -> None:
    page = Page(to_html(results))
    assert not [t for t, _ in page.tags if t in ("script", "link", "iframe", "object", "embed", "img")]
    references = [v for _, attrs in page.tags for k, v in attrs.items() if k in ("src", "href", "xlink:href", "action") and v]
    assert references, "the summary links to the sections"
    assert all(v.startswith("#") for v in references), references
    html = to_html(results)
    assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?:)?//", html)
    assert "@import" not in html and "url(" not in html
    assert html.count("<svg") == len(results)


def test_user_strings_are_escaped() -> None:
    hostile = load("worker-failure-fail.json")
    payload = "<script>alert('x')</script>"
    hostile["expectations"][0]["description"] = payload
    hostile["expectations"][0]["observed"] = {"pod": payload}
    hostile["error"] = payload
    hostile["drill"] = payload
    hostile["events"][0]["message"] = payload
    hostile["availability"]["targets"][0]["name"] = payload
    hostile["timings"]["instants"]['x"><script>'] = hostile["timings"]["instants"]["injected"]
    html = to_html([hostile])
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    page = Page(html)
    assert not [t for t, _ in page.tags if t == "script"]
    # The escaped text still reads as the original string in the browser.
    assert "".join(page.text).count(payload) >= 4
    (anchor,) = [a["id"] for t, a in page.tags if t == "section" and a.get("id")]
    assert re.fullmatch(r"[a-z0-9-]+", anchor or "")
    assert 'x"><script>' in page.markers[anchor or ""]


def test_a_marker_for_every_instant(results: list[dict[str, Any]]) -> None:
    page = Page(to_html(results))
    for index, result in enumerate(results):
        anchor = f"d{index}-{result['drill']}"
        assert sorted(page.markers.get(anchor, [])) == sorted(result["timings"]["instants"]), anchor
    assert "d3-etcd-backup-restore" not in page.markers  # the error result has no instants


def test_timeline_cells_show_the_outage(results: list[dict[str, Any]]) -> None:
    html = to_html(results)
    page = Page(html)
    assert page.cells["d0-pod-kill"].count("cell down") == 0
    assert page.cells["d0-pod-kill"].count("cell up") == 3  # one uninterrupted run per target
    assert page.cells["d1-worker-failure"].count("cell down") == 1
    assert "guestbook-write: DOWN 39–42 s, 3 samples — HTTP 502 Bad Gateway" in section(html, "d1-worker-failure")


def test_expected_and_observed_timings_side_by_side(results: list[dict[str, Any]]) -> None:
    part = section(to_html(results), "d1-worker-failure")
    row = re.search(r"<tr><td>time to evict</td>(.*?)</tr>", part, re.S)
    assert row is not None
    cells = re.findall(r">([^<>]+)</td>", row.group(1))
    assert cells == ["62.7 s", "50.0 s", "+12.7 s"]
    assert part.count('<tr class="unmet">') == 2
    assert part.count('<tr class="met">') == 5
    assert "3.0 s" in part and "97.9 %" in part


def test_restore_and_error_are_shown(results: list[dict[str, Any]]) -> None:
    html = to_html(results)
    assert "nothing to undo / not performed" in section(html, "d0-pod-kill")
    error_part = section(html, "d3-etcd-backup-restore")
    assert "context deadline exceeded" in error_part
    assert "No expectations were recorded." in error_part


def test_chart_svg_is_well_formed_xml(results: list[dict[str, Any]]) -> None:
    for result in results:
        svg = ET.fromstring(str(timeline_svg(result)))
        lanes = svg.findall("rect[@class='lane']")
        assert len(lanes) == len(result["availability"]["targets"])


def test_a_result_without_samples_or_phases_still_renders() -> None:
    result = load("etcd-backup-restore-error.json")
    result["availability"] = {"interval_s": 1.0, "samples": 0, "success_ratio": None, "longest_outage_s": 0.0, "targets": []}
    result["phases"] = []
    html = to_html([result])
    assert "no availability samples" in html
    assert "The availability probe took no samples." in html


def test_runs_merge_samples_and_keep_gaps() -> None:
    timeline: list[list[Any]] = [
        [0.0, True, 3.0, None],
        [1.0, True, 5.0, None],
        [2.0, False, None, "refused"],
        [3.0, False, None, "timeout"],
        [4.0, True, 4.0, None],
        [8.0, True, 4.0, None],
    ]
    runs = _runs(timeline, 1.0)
    assert [(r.ok, r.start, r.end, r.count) for r in runs] == [
        (True, 0.0, 2.0, 2),
        (False, 2.0, 4.0, 2),
        (True, 4.0, 5.0, 1),
        (True, 8.0, 9.0, 1),
    ]
    assert runs[1].errors == ["refused", "timeout"]


def test_stagger_never_overlaps_labels_in_a_row() -> None:
    labels = [(10.0, 100.0), (50.0, 80.0), (120.0, 40.0), (200.0, 30.0), (205.0, 30.0)]
    rows = _stagger(labels)
    assert rows == [0, 1, 0, 0, 1]
    for row in set(rows):
        spans = sorted((x, x + w) for (x, w), r in zip(labels, rows, strict=True) if r == row)
        assert all(a_end < b_start for (_a, a_end), (b_start, _b) in itertools.pairwise(spans))


def test_a_slow_answer_at_a_fifth_of_a_second_is_not_a_gap() -> None:
    # At 0.2 s a healthy answer can take longer than the interval on a loaded host: the next sample
    # then starts when it returns. That is no missing sample, so no grey cell; a real pause still is.
    timeline: list[list[Any]] = [
        [0.0, True, 350.0, None],
        [0.35, True, 20.0, None],
        [0.55, True, 20.0, None],
        [1.4, True, 20.0, None],
    ]
    runs = _runs(timeline, 0.2)
    assert [(r.ok, r.start, round(r.end, 3), r.count) for r in runs] == [(True, 0.0, 0.75, 3), (True, 1.4, 1.6, 1)]
