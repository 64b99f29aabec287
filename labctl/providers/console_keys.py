"""Pin cloud nodes' SSH host keys from what their first boot printed on the console.

A cloud's console output comes through the cloud's authenticated API, not the
network path SSH takes, so a key read there is one an attacker on that path
cannot forge. Every cloud provider hands in how to read one node's console.
"""

import time
from collections.abc import Callable
from pathlib import Path

from labctl import known_hosts
from labctl.errors import InfraError
from labctl.inventory import Inventory, Node

ConsoleReader = Callable[[Node], str]
POLL_S = 3.0


def pin_from_console(inventory: Inventory, known: Path, read_console: ConsoleReader, timeout_s: float,
                     nodes: list[Node] | None = None) -> None:
    """Pin every node's keys; a node pinned before is read once and kept if its console has rotated away."""
    waiting = list(nodes if nodes is not None else inventory.nodes)
    deadline = time.monotonic() + timeout_s
    while waiting:
        still = []
        for node in waiting:
            keys = known_hosts.keys_from_console(read_console(node))
            if keys:
                known_hosts.pin(known, node.ansible_host, keys)
            elif not known_hosts.pinned(known, node.ansible_host):
                still.append(node)
        waiting = still
        if not waiting:
            return
        if time.monotonic() >= deadline:
            names = ", ".join(n.name for n in waiting)
            raise InfraError(
                f"no SSH host keys on the console of {names} after {timeout_s:.0f}s (the image must print them at first boot, "
                f"as cloud-init does): run `labctl up --lab {inventory.lab}` again, or `labctl down`"
            )
        time.sleep(POLL_S)
