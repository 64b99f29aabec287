"""First-boot data for lab nodes: cloud-config for Debian, Ignition for Flatcar.

Workers come from one launch template, so user data carries only what every
node of a role shares; names and addresses come from the inventory later.
"""

import base64
import json
import urllib.parse
from typing import Any

import yaml

from labctl import known_hosts
from labctl.bundle import node_python

IGNITION_VERSION = "3.3.0"
# Flatcar ships no Python and Ansible needs one: a relocatable CPython build
# (python-build-standalone) is installed once at first boot into /opt/python,
# unless the lab is --offline (then labctl pushes the bundle's, labctl.bundle.node_python).
PYTHON_RELEASE = "20241016"
PYTHON_VERSION = "3.12.7"
PYTHON_TRIPLES = {"x86_64": "x86_64-unknown-linux-gnu", "arm64": "aarch64-unknown-linux-gnu"}
PYTHON_BASE_URL = "https://github.com/astral-sh/python-build-standalone/releases/download"
# Both ways of getting Python link it at the same place.
FLATCAR_PYTHON = node_python.INTERPRETER


def python_archive(arch: str) -> tuple[str, str]:
    """(file name, URL) of the CPython build for ARCH."""
    name = f"cpython-{PYTHON_VERSION}+{PYTHON_RELEASE}-{PYTHON_TRIPLES[arch]}-install_only.tar.gz"
    return name, f"{PYTHON_BASE_URL}/{PYTHON_RELEASE}/{urllib.parse.quote(name)}"


def node_env(lab: str, role: str) -> str:
    return f"LABCTL_LAB={lab}\nLABCTL_ROLE={role}\n"


def debian_cloud_config(lab: str, role: str) -> str:
    """cloud-config: no password logins, no package upgrade at boot (the roles decide), the lab marker."""
    data: dict[str, Any] = {
        "ssh_pwauth": False,
        "package_update": False,
        "package_upgrade": False,
        "write_files": [{"path": "/etc/labctl/node.env", "permissions": "0644", "content": node_env(lab, role)}],
    }
    return "#cloud-config\n" + yaml.safe_dump(data, sort_keys=False)


def bootstrap_python_script(arch: str) -> str:
    name, url = python_archive(arch)
    sums = f"{PYTHON_BASE_URL}/{PYTHON_RELEASE}/SHA256SUMS"
    return f"""#!/bin/bash
# Installs a relocatable CPython for Ansible (Flatcar has none). Runs once, at first boot.
set -euo pipefail
[ -x {FLATCAR_PYTHON} ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 8 --retry-connrefused -o "$tmp/{name}" '{url}'
curl -fsSL --retry 8 --retry-connrefused -o "$tmp/SHA256SUMS" '{sums}'
(cd "$tmp" && grep -F ' {name}' SHA256SUMS | sha256sum -c -)
mkdir -p /opt/python /opt/bin
tar -xzf "$tmp/{name}" -C /opt/python --strip-components=1
ln -sf /opt/python/bin/python3 {FLATCAR_PYTHON}
"""


PYTHON_UNIT = f"""[Unit]
Description=Install Python for Ansible (labctl)
Wants=network-online.target
After=network-online.target
ConditionPathExists=!{FLATCAR_PYTHON}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/opt/labctl/bootstrap-python.sh

[Install]
WantedBy=multi-user.target
"""


# cloud-init prints the host keys on the console at first boot; Flatcar's Ignition does
# not, so this unit does, in cloud-init's format, for labctl to pin (labctl.known_hosts).
HOST_KEYS_UNIT = f"""[Unit]
Description=Print the SSH host keys on the console (labctl pins them)
After=sshd-keygen.service

[Service]
Type=oneshot
RemainAfterExit=yes
StandardOutput=tty
TTYPath=/dev/console
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStart=/bin/sh -c 'echo "{known_hosts.BEGIN}"; cat /etc/ssh/ssh_host_*_key.pub; echo "{known_hosts.END}"'

[Install]
WantedBy=multi-user.target
"""


def _data_url(text: str) -> str:
    return "data:;base64," + base64.b64encode(text.encode()).decode()


def flatcar_ignition(lab: str, role: str, public_key: str, arch: str, python_from_bundle: bool = False) -> dict[str, Any]:
    """Ignition config: the lab key for `core`, Python bootstrap, no surprise update reboots mid-drill.

    PYTHON_FROM_BUNDLE (--offline): no download at first boot; labctl pushes Python before Ansible needs it.
    """
    config: dict[str, Any] = {
        "ignition": {"version": IGNITION_VERSION},
        "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": [public_key.strip()]}]},
        "storage": {
            "files": [
                {"path": "/etc/labctl/node.env", "mode": 0o644, "contents": {"source": _data_url(node_env(lab, role))}},
                {
                    # A lab reboots only when a drill says so.
                    "path": "/etc/flatcar/update.conf",
                    "mode": 0o644,
                    "overwrite": True,
                    "contents": {"source": _data_url("REBOOT_STRATEGY=off\n")},
                },
            ]
        },
        "systemd": {"units": [{"name": "labctl-host-keys.service", "enabled": True, "contents": HOST_KEYS_UNIT}]},
    }
    if not python_from_bundle:
        config["storage"]["files"].append(
            {"path": "/opt/labctl/bootstrap-python.sh", "mode": 0o755, "contents": {"source": _data_url(bootstrap_python_script(arch))}}
        )
        config["systemd"]["units"].insert(0, {"name": "labctl-python.service", "enabled": True, "contents": PYTHON_UNIT})
    return config


def user_data(os_name: str, lab: str, role: str, public_key: str, arch: str, python_from_bundle: bool = False) -> str:
    if os_name == "flatcar":
        return json.dumps(flatcar_ignition(lab, role, public_key, arch, python_from_bundle), separators=(",", ":"))
    return debian_cloud_config(lab, role)


def b64(text: str) -> str:
    """Launch templates take user data base64-encoded (instances take it plain)."""
    return base64.b64encode(text.encode()).decode()
