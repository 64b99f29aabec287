"""The bundle's Python for nodes that have none (Flatcar --offline): installed by a plain shell, it runs
Ansible's modules with nothing of the host's Python and only libraries of its own."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labctl import bundle
from labctl.bundle import node_python
from labctl.bundle.versions import KUBERNETES_VERSION

# In a mount namespace of its own: an empty /opt (the installer's target), and the host's Python hidden,
# so nothing below can fall back on it.
SCRIPT = r"""
set -eu
mount -t tmpfs tmpfs /opt
for p in /usr/bin/python3*; do mount --bind /dev/null "$p"; done
for d in /usr/lib/python3*; do mount -t tmpfs tmpfs "$d"; done
sh "$INSTALLER" >/dev/null
/opt/bin/python3 -c '
import json, sys, ssl, ctypes, hashlib, zlib, lzma, bz2, uuid
maps = open("/proc/self/maps").read().splitlines()
libs = sorted({line.split()[-1] for line in maps if ".so" in line})
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "libs": libs}))
'
"$ANSIBLE" localhost -c local -i localhost, -m ansible.builtin.setup -a gather_subset=min \
  -e ansible_python_interpreter=/opt/bin/python3 -o
"""


@pytest.fixture(scope="module")
def installer() -> Path:
    bundle.build(KUBERNETES_VERSION, only=["python/node-python"])
    return bundle.artifact_path(KUBERNETES_VERSION, "python/node-python")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare for a mount namespace")
def test_the_bundled_python_runs_ansible_on_a_node_without_python(installer: Path) -> None:
    env = {**os.environ, "INSTALLER": str(installer), "ANSIBLE": str(Path(sys.executable).parent / "ansible"),
           "ANSIBLE_LOCALHOST_WARNING": "false"}
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", SCRIPT],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    lines = done.stdout.splitlines()
    seen = json.loads(lines[0])
    assert seen["prefix"] == node_python.PREFIX and seen["executable"] == node_python.INTERPRETER
    # Its own C library, OpenSSL, zlib … : it cannot break on a node whose libraries differ.
    assert seen["libs"] and all(lib.startswith(node_python.PREFIX + "/") for lib in seen["libs"]), seen["libs"]
    assert any(line.startswith("localhost | SUCCESS") and f'"ansible_python": {{"executable": "{node_python.INTERPRETER}"' in line
               for line in lines[1:]), done.stdout[-2000:]
    # The host's /opt was never touched.
    assert not Path(node_python.INTERPRETER).exists()


def test_bundle_status_says_who_needs_it() -> None:
    parts = {c["name"]: c for c in bundle.status(KUBERNETES_VERSION)["components"]}
    assert parts["python/node-python"]["needed_by"] == node_python.NEEDED_BY
    assert bundle.purpose(node_python.NEEDED_BY) == "Flatcar cloud labs with --offline"
