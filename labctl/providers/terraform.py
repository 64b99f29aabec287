"""Terraform as an engine: run a configuration under terraform/, and turn `terraform output -json` into the inventory.

The output contract (terraform/README.md) is shared by terraform/aws and
terraform/openstack, so one converter serves both:

  lab_name     string
  provider     string, "aws" or "openstack"
  ssh_user     string, the login user of the image
  controllers  list of {name, public_ip, private_ip, [id]}
  workers      list of {name, public_ip, private_ip, [id]}
  api_endpoint string, https://ADDRESS:6443
optional:
  api_lb              list of {name, public_ip, private_ip, [id]} (HA topology)
  python_interpreter  string, set where the image has no /usr/bin/python3
  guestbook_url       string, the load balancer in front of the guestbook
  inventory_vars      map, merged into the inventory's top-level vars
"""

import json
import os
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

from labctl.atomic_file import write_atomic
from labctl.errors import InfraError, UsageError
from labctl.inventory import Inventory, Node

REQUIRED_OUTPUTS = ("lab_name", "provider", "ssh_user", "controllers", "workers", "api_endpoint")
NODE_LISTS = (("controllers", "controller"), ("api_lb", "api_lb"), ("workers", "worker"))


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """`terraform output -json` wraps each output as {"value": …, "type": …, "sensitive": …}."""
    wrapped = {key for key, entry in data.items() if isinstance(entry, dict) and "value" in entry and "type" in entry}
    return {key: (data[key]["value"] if key in wrapped else data[key]) for key in data}


def _node(entry: Any, role: str, where: str, ssh_user: str, python: str, key_file: Path | None) -> Node:
    if not isinstance(entry, dict) or not entry.get("name") or not (entry.get("private_ip") or entry.get("public_ip")):
        raise UsageError(f"terraform output {where}: each node needs name and private_ip (and public_ip): fix the outputs")
    private_ip = str(entry.get("private_ip") or entry["public_ip"])
    extra: dict[str, Any] = {}
    if entry.get("id"):
        extra["instance_id"] = str(entry["id"])
    if ssh_user != "root":
        # The shared roles run as root, as on local nodes: cloud images log in as a sudo user.
        extra["ansible_become"] = True
    if python:
        extra["ansible_python_interpreter"] = python
    if key_file is not None:
        extra["ansible_ssh_private_key_file"] = str(key_file)
    return Node(
        name=str(entry["name"]),
        role=role,  # type: ignore[arg-type]
        ansible_host=str(entry.get("public_ip") or private_ip),
        node_ip=private_ip,
        ansible_user=ssh_user,
        extra=extra,
    )


def inventory_from_output(data: dict[str, Any], lab: str, *, ssh_key_path: Path | None = None) -> Inventory:
    """The common inventory from a parsed `terraform output -json` (see the module doc for the contract)."""
    if not isinstance(data, dict):
        raise UsageError("terraform output must be a JSON object of outputs (`terraform output -json`)")
    values = _values(data)
    missing = [name for name in REQUIRED_OUTPUTS if name not in values]
    if missing:
        raise UsageError(f"terraform output lacks {', '.join(missing)}: use a configuration that follows terraform/README.md")
    if str(values["lab_name"]) != lab:
        raise UsageError(f"terraform output is for lab {values['lab_name']}, not {lab}: pass --lab {values['lab_name']}")
    ssh_user = str(values["ssh_user"] or "root")
    python = str(values.get("python_interpreter") or "")
    nodes: list[Node] = []
    for output, role in NODE_LISTS:
        entries = values.get(output) or []
        if not isinstance(entries, list):
            raise UsageError(f"terraform output {output} must be a list of nodes")
        nodes += [_node(entry, role, f"{output}[{index}]", ssh_user, python, ssh_key_path) for index, entry in enumerate(entries)]
    if not any(n.role == "controller" for n in nodes):
        raise UsageError("terraform output has no controllers: the cluster needs at least one")
    names = [n.name for n in nodes]
    if len(set(names)) != len(names):
        raise UsageError(f"terraform output names a node twice ({', '.join(sorted({n for n in names if names.count(n) > 1}))})")
    client_host = urllib.parse.urlsplit(str(values["api_endpoint"])).hostname
    if not client_host:
        raise UsageError(f"terraform output api_endpoint must be a URL like https://ADDRESS:6443, not {values['api_endpoint']!r}")
    # The operator reaches the API at api_endpoint; nodes at the first controller's own address
    # unless the configuration says otherwise (inventory_vars.api_endpoint_host).
    first_controller = next(n for n in nodes if n.role == "controller")
    inventory_vars: dict[str, Any] = {"api_client_host": client_host, "api_endpoint_host": first_controller.node_ip}
    if values.get("guestbook_url"):
        inventory_vars["guestbook_url"] = str(values["guestbook_url"])
    extra_vars = values.get("inventory_vars") or {}
    if not isinstance(extra_vars, dict):
        raise UsageError("terraform output inventory_vars must be a map")
    inventory_vars.update(extra_vars)
    return Inventory(lab=lab, provider=str(values["provider"]), nodes=nodes, vars=inventory_vars)


def inventory_from_output_file(path: Path, lab: str) -> Inventory:
    """`labctl inventory from-terraform FILE`: a saved `terraform output -json`."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"no file {path}: save it with `terraform output -json > {path}`") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} is not JSON (line {error.lineno}): save it with `terraform output -json`") from None
    return inventory_from_output(data, lab)


# --- running terraform --------------------------------------------------------


def binary() -> str:
    found = shutil.which("terraform")
    if not found:
        raise InfraError("terraform not found on PATH: install Terraform >= 1.5, or use --engine ansible")
    return found


def prepare_workdir(source: Path, workdir: Path, tfvars: dict[str, Any]) -> None:
    """A per-lab copy of the configuration: its state and plugins live with the lab, not in the repo."""
    workdir.mkdir(parents=True, exist_ok=True)
    for tf in source.glob("*.tf"):
        shutil.copy2(tf, workdir / tf.name)

    # Holds no secret: credentials reach terraform through its environment only.
    write_atomic(workdir / "labctl.auto.tfvars.json", json.dumps(tfvars, indent=2), mode=0o600)


def run(workdir: Path, args: list[str], log: Path, env: dict[str, str] | None = None) -> str:
    """Run `terraform ARGS` in WORKDIR; output goes to LOG; one line on failure."""
    command = [binary(), *args]
    log.parent.mkdir(parents=True, exist_ok=True)
    # Credentials reach terraform through its environment, which it does not write anywhere.
    environment = {**(env if env is not None else os.environ), "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    completed = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=environment, check=False)
    with log.open("a") as handle:
        handle.write(f"$ terraform {' '.join(args)}\n{completed.stdout}\n{completed.stderr}\n")
    if completed.returncode != 0:
        errors = [line.strip() for line in completed.stderr.splitlines() if line.strip().startswith("Error")]
        detail = errors[0] if errors else (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise InfraError(f"terraform {args[0]} failed: {detail} — full log in {log}")
    return completed.stdout


def apply(source: Path, workdir: Path, tfvars: dict[str, Any], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """init + apply + output; returns the parsed `terraform output -json`."""
    prepare_workdir(source, workdir, tfvars)
    run(workdir, ["init", "-input=false", "-no-color"], log, env)
    run(workdir, ["apply", "-input=false", "-auto-approve", "-no-color"], log, env)
    output = run(workdir, ["output", "-json"], log, env)
    (workdir / "output.json").write_text(output)
    return json.loads(output)


def destroy(workdir: Path, log: Path, env: dict[str, str] | None = None) -> None:
    if not (workdir / "terraform.tfstate").exists():
        return
    run(workdir, ["destroy", "-input=false", "-auto-approve", "-no-color"], log, env)
