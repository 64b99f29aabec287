"""Every image archive imports into containerd under its name, and runs."""

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from bundlehelpers import Containerd, need

from labctl.bundle import versions

pytestmark = pytest.mark.bundle

IMAGES = sorted(versions.IMAGES.items())


@pytest.fixture(scope="module")
def imported(containerd: Containerd) -> Containerd:
    paths = need(*(f"images/{name}" for name, _ in IMAGES))
    for path in paths.values():
        containerd.ctr("images", "import", str(path))
    return containerd


@pytest.mark.parametrize(("name", "ref"), IMAGES)
def test_image_imports_under_its_name(imported: Containerd, name: str, ref: str) -> None:
    refs = imported.ctr("images", "ls", "-q").stdout.split()
    assert ref in refs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_pause_and_nginx_run(imported: Containerd) -> None:
    rm = ("--rm",)
    assert "pause" in imported.run(versions.PAUSE_IMAGE, "t-pause", "/pause", "--version", flags=rm)
    assert "test is successful" in imported.run(versions.NGINX_IMAGE, "t-nginx", "nginx", "-t", flags=rm)
    assert "CoreDNS" in imported.run(versions.COREDNS_IMAGE, "t-coredns", "/coredns", "-version", flags=rm)


def test_guestbook_writes_to_master_reads_from_replica(imported: Containerd) -> None:
    """redis master + replica + guestbook, in containers on loopback."""
    master, replica, web = free_port(), free_port(), free_port()
    # The entrypoint turns bare options into redis-server's, as pods pass them.
    bg = ("-d", "--net-host")
    imported.run(versions.REDIS_IMAGE, "t-master",
                 "docker-entrypoint.sh", "--port", str(master), "--bind", "127.0.0.1", flags=bg)
    imported.run(versions.REDIS_IMAGE, "t-replica", "redis-server", "--port", str(replica),
                 "--bind", "127.0.0.1", "--replicaof", "127.0.0.1", str(master), flags=bg)
    env = {"PORT": str(web), "REDIS_MASTER_HOST": "127.0.0.1", "REDIS_MASTER_PORT": str(master),
           "REDIS_REPLICA_HOST": "127.0.0.1", "REDIS_REPLICA_PORT": str(replica)}
    env_flags = tuple(f for k, v in env.items() for f in ("--env", f"{k}={v}"))
    imported.run(versions.GUESTBOOK_IMAGE, "t-guestbook", flags=bg + env_flags)
    base = f"http://127.0.0.1:{web}"
    wait_http(base + "/healthz")

    req = urllib.request.Request(base + "/entries", data=b'{"entry": "from the bundle"}',
                                 headers={"Content-Type": "application/json"}, method="POST")
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                assert resp.status == 201
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)

    deadline = time.monotonic() + 20
    while True:
        with urllib.request.urlopen(base + "/entries", timeout=5) as resp:
            entries, source = json.load(resp), resp.headers["X-Guestbook-Read-From"]
        if entries == ["from the bundle"] and source == "replica":
            break
        assert time.monotonic() < deadline, (entries, source)
        time.sleep(0.5)


def test_nginx_serves_its_default_page_on_port_80(imported: Containerd) -> None:
    """In the container's own network namespace, reached through nsenter."""
    imported.run(versions.NGINX_IMAGE, "t-nginx-80", flags=("-d",))
    tasks = imported.ctr("tasks", "ls").stdout.splitlines()
    pid = next(line.split()[1] for line in tasks if line.startswith("t-nginx-80"))
    probe = (
        "import time, urllib.request\n"
        "for _ in range(50):\n"
        "    try:\n"
        "        print(urllib.request.urlopen('http://127.0.0.1:80/', timeout=2).read().decode()); break\n"
        "    except OSError: time.sleep(0.2)\n"
    )
    out = subprocess.run(["nsenter", "-t", pid, "-n", sys.executable, "-c", probe],
                         capture_output=True, text=True, timeout=60).stdout
    assert "Welcome to nginx" in out
