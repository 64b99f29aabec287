"""Debian roots made with mmdebstrap from whatever mirror this machine's apt uses.

The mirror is read from the host's apt sources at run time, never written
into the repo: every machine of the project points apt at its own mirror.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

from labctl.bundle.versions import DEBIAN_SUITE
from labctl.errors import InfraError

APT_SOURCES = (
    Path("/etc/apt/sources.list.d/debian.sources"),
    Path("/etc/apt/sources.list"),
)

# Docs, manuals and translations are dead weight in images and nodes.
DPKG_EXCLUDES = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
    "path-exclude=/usr/share/lintian/*",
)


def parse_deb822(text: str) -> list[str]:
    """One-line `deb URI SUITE COMPONENTS` entries from a deb822 .sources file."""
    lines = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for raw in stanza.splitlines():
            if raw.startswith("#") or ":" not in raw or raw[:1].isspace():
                continue
            key, _, value = raw.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                lines.append(f"deb {uri} {suite} {fields.get('components', 'main')}")
    return lines


def parse_one_line(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip().startswith("deb ")]


def mirror_lines(suite: str = DEBIAN_SUITE, sources: tuple[Path, ...] = APT_SOURCES) -> list[str]:
    """apt source lines for suite and its -updates/-security companions."""
    found: list[str] = []
    for path in sources:
        if not path.exists():
            continue
        text = path.read_text()
        found += parse_deb822(text) if path.suffix == ".sources" else parse_one_line(text)
    wanted = [ln for ln in found if ln.split()[2].split("-")[0] == suite]
    if not any(ln.split()[2] == suite for ln in wanted):
        raise InfraError(
            f"bundle: no apt source for Debian {suite} in {', '.join(map(str, sources))}; "
            f"fix: add a {suite} entry to the host's apt sources"
        )
    return wanted


def require_tool(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise InfraError(f"bundle: {tool} is not installed; fix: apt-get install -y {package}")
    return path


def _plain_env() -> dict[str, str]:
    """Environment for mmdebstrap with the system's tools first on PATH.

    mmdebstrap runs helpers (mmtarfilter) through `env python3`; a user-level
    Python shim (pyenv) in front of /usr/bin makes every package extraction
    pay its start-up cost, or lack the modules the helper needs.
    """
    env = dict(os.environ)
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    return env


def mmdebstrap(target: Path, *, variant: str, include: list[str], log: Path,
               fmt: str = "directory", hooks: tuple[str, ...] = ()) -> None:
    """Run mmdebstrap into target, a directory or a tar file (fmt)."""
    require_tool("mmdebstrap", "mmdebstrap")
    cmd = ["mmdebstrap", "--mode=root", f"--variant={variant}", f"--format={fmt}"]
    if include:
        cmd.append("--include=" + ",".join(include))
    for opt in DPKG_EXCLUDES:
        cmd.append(f"--dpkgopt={opt}")
    # Package lists are many MiB and stale the moment the root is built.
    cmd.append('--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin')
    cmd += [f"--customize-hook={hook}" for hook in hooks]
    cmd += [DEBIAN_SUITE, str(target), *mirror_lines()]
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=_plain_env())
    if proc.returncode != 0:
        tail = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
        raise InfraError(
            f"bundle: mmdebstrap ({', '.join(include) or variant}) failed: "
            f"{tail[-1][:200] if tail else 'no output'}; see {log}"
        )


def package_version(root: Path, package: str) -> str:
    """Upstream part of an installed package's version (5:7.0.15-1~deb12u1 -> 7.0.15)."""
    status = (root / "var/lib/dpkg/status").read_text()
    match = re.search(rf"^Package: {re.escape(package)}\n(?:.+\n)*?Version: (\S+)", status, re.M)
    if not match:
        raise InfraError(f"bundle: {package} is not installed in {root}")
    version = match.group(1).split(":", 1)[-1]
    return version.rsplit("-", 1)[0]
