"""Reaching a lab: kubectl with its kubeconfig, ssh with its key, shell env lines."""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from labctl import known_hosts
from labctl.errors import InfraError, UsageError
from labctl.inventory import load_inventory
from labctl.lab import Lab


def kubectl_binary(lab: Lab) -> str:
    """The bundle's kubectl for the lab's version, else one on PATH."""
    try:
        from labctl.bundle import artifact_path

        candidate = artifact_path(lab.load_config().kubernetes_version, "kubectl")
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("kubectl")
    if not found:
        raise InfraError("kubectl not found: build the bundle (`labctl bundle build`) or install kubectl on PATH")
    return found


def _require_kubeconfig(lab: Lab) -> Path:
    if not lab.kubeconfig_path.exists():
        raise UsageError(f"lab {lab.name} has no kubeconfig yet: run `labctl up --lab {lab.name}`")
    return lab.kubeconfig_path


def kubectl(lab: Lab, args: list[str]) -> int:
    command = [kubectl_binary(lab), "--kubeconfig", str(_require_kubeconfig(lab)), *args]
    return subprocess.call(command)


def ssh_command(lab: Lab, node_name: str, args: list[str], key: Path | None = None) -> list[str]:
    """ssh to the node with the lab's pinned host keys, as the lab's admin or with a user's KEY."""
    node = load_inventory(lab.inventory_path).node(node_name)
    if key is None and not lab.ssh_key_path.exists():
        raise UsageError(f"lab {lab.name} has no SSH key: run `labctl up --lab {lab.name}`")
    command = [
        "ssh",
        "-i", str(key or lab.ssh_key_path),
        *known_hosts.client_options(lab.known_hosts_path),
        "-o", "LogLevel=ERROR",
        f"{node.ansible_user}@{node.ansible_host}",
    ]
    if args:
        # Like ssh itself: the remote shell gets the words joined by spaces.
        command.append(" ".join(args))
    return command


def ssh(lab: Lab, node_name: str, args: list[str]) -> int:
    command = ssh_command(lab, node_name, args)
    if shutil.which("ssh") is None:
        raise InfraError("ssh not found: apt-get install openssh-client")
    if not args:
        os.execvp(command[0], command)
    return subprocess.call(command)


def env_lines(lab: Lab) -> list[str]:
    kubeconfig = _require_kubeconfig(lab)
    lines = [f"export KUBECONFIG={shlex.quote(str(kubeconfig))}"]
    try:
        binary = Path(kubectl_binary(lab))
        lines.append(f"export PATH={shlex.quote(str(binary.parent))}:\"$PATH\"")
    except InfraError:
        pass
    lines.append(f"# run: eval \"$(labctl env --lab {lab.name})\"")
    return lines
