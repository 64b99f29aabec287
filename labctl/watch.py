"""`labctl watch` and `labctl drill --watch`: the live view, drawn beside whatever runs.

Nothing here runs on the drill's path: the cluster is read by ClusterWatch's threads,
the probe samples on its own threads, the drill's record arrives through DrillFeed (a
few assignments per runner event), and drawing happens on Rich's refresh thread (a
terminal) or on a thread of its own that prints what changed (no terminal).
"""

import threading
import time

from rich.console import Console, RenderableType
from rich.live import Live

from labctl.cluster_watch import ClusterWatch
from labctl.drill_feed import DrillFeed
from labctl.inventory import load_inventory
from labctl.lab import Lab
from labctl.probe import AvailabilityProbe, app_targets
from labctl.watch_view import WatchState, plain_lines, probe_window, render

REFRESH_PER_SECOND = 2


class LiveWatch:
    def __init__(self, console: Console, title: str, cluster: ClusterWatch, probe: AvailabilityProbe | None = None) -> None:
        self.console = console
        self.title = title
        self.cluster = cluster
        self.probe = probe
        self.feed: DrillFeed | None = None
        self._live: Live | None = None
        self._stop = threading.Event()
        self._printer: threading.Thread | None = None

    def follow(self, drill: str, target: str, probe: AvailabilityProbe, started: float) -> DrillFeed:
        """Show this drill and its probe from now on; returns the sink for its runner events."""
        self.probe = probe
        self.feed = DrillFeed(drill, target, started)
        return self.feed

    def state(self) -> WatchState:
        now = time.time()
        nodes, pods, error = self.cluster.snapshot()
        probes = []
        if self.probe is not None:
            # list() copies: the probe's threads append while this reads.
            probes = [probe_window(s.target.name, list(s.samples), self.probe.started, now) for s in self.probe.series]
        return WatchState(title=self.title, now=now, api_error=error, nodes=nodes, pods=pods, probes=probes,
                          drill=self.feed.snapshot() if self.feed else None)

    def _render(self) -> RenderableType:
        return render(self.state())

    def _print_changes(self) -> None:
        before: WatchState | None = None
        while True:
            state = self.state()
            for line in plain_lines(before, state):
                self.console.print(line, highlight=False, markup=False, soft_wrap=True)
            before = state
            if self._stop.wait(1.0 / REFRESH_PER_SECOND):
                return

    def __enter__(self) -> "LiveWatch":
        self.cluster.start()
        if self.console.is_terminal:
            self._live = Live(get_renderable=self._render, console=self.console, refresh_per_second=REFRESH_PER_SECOND,
                              redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        else:
            self._printer = threading.Thread(target=self._print_changes, name="watch-lines", daemon=True)
            self._printer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()  # draws the last frame once more and leaves it on screen
            self._live = None
        if self._printer is not None:
            self._stop.set()
            self._printer.join(timeout=2)
        self.cluster.stop()


def watch_lab(lab: Lab, console: Console, seconds: float | None = None) -> None:
    """The view on its own: nodes, pods and a probe of the apps' read paths, until Ctrl-C or SECONDS."""
    config = lab.load_config()
    inventory = load_inventory(lab.inventory_path)
    host = inventory.by_role("controller")[0].ansible_host
    targets = app_targets(host, config.apps.nginx.node_port, config.apps.guestbook.node_port, lab.name)
    # A watch only looks: the guestbook-write target would add an entry to the lab's guestbook every second.
    probe = AvailabilityProbe([t for t in targets if t.method == "GET"]).start()
    try:
        with LiveWatch(console, f"lab {lab.name}", ClusterWatch(lab.kubeconfig_path), probe):
            deadline = None if seconds is None else time.monotonic() + seconds
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
    finally:
        probe.stop()
