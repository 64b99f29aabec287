"""A Python for nodes that ship none (Flatcar), cut from Debian's packages, so `--offline` downloads nothing.

Ansible cannot push a Python with its own modules (they need one), but `ansible.builtin.script` runs a
plain shell script without one. So the artifact is a shell script carrying the interpreter after a
marker line. The interpreter is Debian bookworm's python3.11 with every library it loads beside it and
its ELF interpreter and search path pointed there, so it runs on any x86-64 Linux whatever its C
library, and a program it starts keeps the node's own.
"""

import io
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from labctl.bundle import debian
from labctl.bundle.spec import ArtifactSpec, BuildContext, hash_tree
from labctl.bundle.versions import DEBIAN_SUITE
from labctl.errors import InfraError

PREFIX = "/opt/python"
# Where the nodes' inventory points ansible_python_interpreter.
INTERPRETER = "/opt/bin/python3"
PACKAGES = ("python3.11-minimal", "libpython3.11-stdlib")
PYTHON = "python3.11"
MARKER = "__LABCTL_PYTHON_ARCHIVE__"
# Who needs it (bundle status says so): Flatcar cloud labs made with --offline.
NEEDED_BY = "flatcar"
# Parts of the standard library no Ansible module imports.
UNUSED_STDLIB = ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data")

HEADER = f"""#!/bin/sh
# labctl: installs a relocatable CPython (Debian {DEBIAN_SUITE}'s {PYTHON}) at {PREFIX} and links it as
# {INTERPRETER}, for Ansible on nodes that have no Python. The archive follows the marker line.
set -eu
line=$(awk '/^{MARKER}$/ {{ print NR + 1; exit }}' "$0")
rm -rf {PREFIX}.new
mkdir -p {PREFIX}.new {Path(INTERPRETER).parent}
tail -n +"$line" "$0" | tar -xzf - -C {PREFIX}.new
rm -rf {PREFIX}
mv {PREFIX}.new {PREFIX}
ln -sfn {PREFIX}/bin/python3 {INTERPRETER}
{PREFIX}/bin/python3 -c 'import json, ssl, zlib'
exit 0
{MARKER}
"""


def _inputs(ctx: BuildContext) -> dict[str, Any]:
    return {"suite": DEBIAN_SUITE, "packages": list(PACKAGES), "prefix": PREFIX, "header": HEADER,
            "unused": list(UNUSED_STDLIB), "code": hash_tree(Path(__file__), Path(debian.__file__))}


def _libraries(root: Path, into: Path) -> None:
    """Every shared library the extracted packages hold, flat in INTO (links kept as links)."""
    into.mkdir(parents=True)
    for libdir in sorted([*root.glob("lib/*-linux-gnu"), *root.glob("usr/lib/*-linux-gnu")]):
        for item in sorted(libdir.iterdir()):
            if ".so" in item.name and (item.is_symlink() or item.is_file()):
                shutil.copy2(item, into / item.name, follow_symlinks=False)


def _assemble(root: Path, tree: Path) -> None:
    (tree / "bin").mkdir(parents=True)
    shutil.copy2(root / "usr/bin" / PYTHON, tree / "bin" / PYTHON)
    (tree / "bin/python3").symlink_to(PYTHON)
    stdlib = tree / "lib" / PYTHON
    shutil.copytree(root / "usr/lib" / PYTHON, stdlib, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", *UNUSED_STDLIB))
    _libraries(root, tree / "lib/libs")
    loaders = sorted((tree / "lib/libs").glob("ld-linux*.so*"))
    if not loaders:
        raise InfraError(f"bundle: no ELF interpreter (ld-linux) among {', '.join(PACKAGES)}'s dependencies")
    libs = f"{PREFIX}/lib/libs"
    # DT_RPATH (not RUNPATH): it also applies to what the stdlib's extension modules load.
    debian.require_tool("patchelf", "patchelf")
    subprocess.run(["patchelf", "--set-interpreter", f"{libs}/{loaders[0].name}", "--force-rpath", "--set-rpath", libs,
                    str(tree / "bin" / PYTHON)], check=True, capture_output=True)


def _make(ctx: BuildContext, out: Path) -> None:
    root, tree = ctx.scratch / "python-root", ctx.scratch / "python-tree"
    for path in (root, tree):
        shutil.rmtree(path, ignore_errors=True)
    debian.mmdebstrap(root, variant="extract", include=list(PACKAGES), log=ctx.log_file("python/node-python"))
    try:
        _assemble(root, tree)
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=6) as tar:
            for path in sorted(tree.rglob("*")):
                info = tar.gettarinfo(str(path), arcname=str(path.relative_to(tree)))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isreg():
                    with open(path, "rb") as fh:
                        tar.addfile(info, fh)
                else:
                    tar.addfile(info)
    except (OSError, subprocess.CalledProcessError) as error:
        raise InfraError(f"bundle: python/node-python: {error}") from None
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(tree, ignore_errors=True)
    out.write_bytes(HEADER.encode() + archive.getvalue())


def spec() -> ArtifactSpec:
    return ArtifactSpec(
        name="python/node-python", kind="installer", version=f"{DEBIAN_SUITE}-{PYTHON}",
        relpath="python/install-python.sh", source=f"debian:{DEBIAN_SUITE} {' '.join(PACKAGES)}",
        group="python", lane="debian", inputs=_inputs, make=_make, needed_by=NEEDED_BY,
    )
