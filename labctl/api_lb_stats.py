"""The HA topology's API load balancer as HAProxy's stats see it: each API server backend's state.

roles/api_lb runs a read-only stats listener on the load balancer node's lab address; its CSV export
(`/;csv`) has one row per server, with `status` UP, DOWN, `DOWN 1/2` (going up), MAINT...
"""

import csv
import io
import urllib.error
import urllib.request
from typing import Any

# roles/api_lb's defaults; a lab may set others in its inventory vars.
STATS_PORT = 8404
BACKEND = "kube_apiservers"


def stats_url(address: str, port: int = STATS_PORT) -> str:
    return f"http://{address}:{port}/"


def parse(text: str, backend: str = BACKEND) -> list[dict[str, str]]:
    """The servers of `backend` in a stats CSV export, in configuration order."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("# ")))
    return [
        {
            "name": row["svname"],
            "state": row["status"],
            "check": row.get("check_desc") or row.get("check_status", ""),
        }
        for row in reader
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND")
    ]


def backends(address: str, port: int = STATS_PORT, timeout: float = 3.0) -> dict[str, Any]:
    """{"stats": url, "backends": [...]} or {"stats": url, "error": why} when the stats do not answer."""
    url = stats_url(address, port)
    try:
        with urllib.request.urlopen(url + ";csv", timeout=timeout) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        return {"stats": url, "error": f"load balancer stats unavailable: {reason}"}
    return {"stats": url, "backends": parse(text)}
