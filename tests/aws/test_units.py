"""The AWS provider's pieces that need no API: cost, user data, error lines, address detection, inventory shape."""

import base64
import datetime
import http.server
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import botocore.exceptions
import pytest
import yaml

from labctl.errors import UsageError
from labctl.inventory import from_ansible
from labctl.providers.aws.cost import PRICES_PATH, estimate, load_prices
from labctl.providers.aws.errors import explain, explain_message
from labctl.providers.aws.nodes import build_inventory, ensure_ssh_key
from labctl.providers.aws.preflight import detect_public_cidr
from labctl.providers.aws.userdata import FLATCAR_PYTHON, b64, bootstrap_python_script, debian_cloud_config, flatcar_ignition, user_data
from labctl.providers.exposure import parse_allow_from

PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM5zOacZ+zf0aAB9r/A8pzTGzfvqhO0QFo22IzFfAr5p labctl-u1"


# --- cost ------------------------------------------------------------------------------


def test_estimate_counts_instances_volumes_addresses_and_the_balancer() -> None:
    cost = estimate("us-east-1", {"t3.medium": 3}, root_volume_gb=30)
    expected = 3 * 0.0416 + 3 * 30 * 0.08 / 730 + 4 * 0.005 + 0.0225
    assert cost.hourly == pytest.approx(expected)
    assert cost.summary().startswith(f"about {expected:.2f} USD/hour ({expected * 24:.2f}/day)")
    assert "us-east-1 prices as of 2025-06-01" in cost.summary()
    assert cost.lines[0] == "3 × t3.medium at 0.0416/h"


def test_estimate_says_when_it_guesses() -> None:
    cost = estimate("ap-south-1", {"t3.medium": 1, "x9.huge": 2}, root_volume_gb=30)
    assert cost.unknown == ["x9.huge"]
    assert "not counting x9.huge" in cost.summary() and "prices of us-east-1, ap-south-1 may differ" in cost.summary()


def test_price_table_is_dated_and_complete() -> None:
    table = load_prices()
    as_of = datetime.date.fromisoformat(table["as_of"])
    assert as_of <= datetime.date.today()
    assert PRICES_PATH.name == "prices.yaml"
    for region, prices in table["instances"].items():
        assert prices["t3.medium"] > 0, region
        assert region in table["nlb_hour"] and region in table["ebs_gp3_gb_month"]


# --- user data ------------------------------------------------------------------------------


def test_debian_user_data_is_cloud_config() -> None:
    text = debian_cloud_config("u1", "worker")
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    assert data["ssh_pwauth"] is False and data["package_upgrade"] is False
    assert "LABCTL_ROLE=worker" in data["write_files"][0]["content"]
    assert base64.b64decode(b64(text)).decode() == text


def test_flatcar_ignition_is_valid_for_ignition_validate(tmp_path: Path) -> None:
    text = user_data("flatcar", "u1", "controller", PUBLIC_KEY, "x86_64")
    config = json.loads(text)
    assert config["ignition"]["version"] == "3.3.0"
    assert config["passwd"]["users"] == [{"name": "core", "sshAuthorizedKeys": [PUBLIC_KEY]}]
    files = {f["path"]: f for f in config["storage"]["files"]}
    assert files["/opt/labctl/bootstrap-python.sh"]["mode"] == 0o755
    script = base64.b64decode(files["/opt/labctl/bootstrap-python.sh"]["contents"]["source"].split(",", 1)[1]).decode()
    assert script == bootstrap_python_script("x86_64") and "sha256sum -c" in script and FLATCAR_PYTHON in script
    assert config["systemd"]["units"][0]["enabled"] is True
    assert len(text.encode()) < 16 * 1024, "EC2 user data is limited to 16 KiB"
    tool = shutil.which("ignition-validate")
    if tool is None:
        pytest.skip("ignition-validate not installed (apt-get install ignition)")
    path = tmp_path / "config.ign"
    path.write_text(text)
    result = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # And ignition-validate does reject a broken config, so the check above means something.
    broken = dict(config, storage={"files": [{"path": "relative/path", "mode": 420}]})
    path.write_text(json.dumps(broken))
    assert subprocess.run([tool, str(path)], capture_output=True, text=True, check=False).returncode != 0


def test_flatcar_ignition_offline_leaves_python_to_labctl() -> None:
    online = flatcar_ignition("u1", "worker", PUBLIC_KEY, "x86_64")
    offline = flatcar_ignition("u1", "worker", PUBLIC_KEY, "x86_64", python_from_bundle=True)
    assert "labctl-python.service" in json.dumps(online) and "labctl-python.service" not in json.dumps(offline)
    assert [f["path"] for f in offline["storage"]["files"]] == ["/etc/labctl/node.env", "/etc/flatcar/update.conf"]
    assert offline["passwd"] == online["passwd"]


def test_flatcar_bootstrap_picks_the_architecture() -> None:
    assert "aarch64-unknown-linux-gnu" in bootstrap_python_script("arm64")
    files = flatcar_ignition("u1", "worker", PUBLIC_KEY, "x86_64")["storage"]["files"]
    script = next(f for f in files if f["path"] == "/opt/labctl/bootstrap-python.sh")["contents"]["source"]
    assert "x86_64-unknown-linux-gnu" in base64.b64decode(script.split(",", 1)[1]).decode()


# --- error lines ------------------------------------------------------------------------------


QUOTA_MESSAGE = (
    "Failed to create instances: An error occurred (VcpuLimitExceeded) when calling the RunInstances operation: "
    "You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the "
    "specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment."
)


def test_quota_error_from_a_module_is_one_line_with_the_fix() -> None:
    line = explain_message(QUOTA_MESSAGE, "task 'Controller instance'")
    assert "\n" not in line
    assert line.startswith("AWS quota reached while task 'Controller instance' (VcpuLimitExceeded:")
    assert "Service Quotas" in line


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("InstanceLimitExceeded", "AWS quota reached"),
        ("VpcLimitExceeded", "AWS quota reached"),
        ("TooManyLoadBalancers", "AWS quota reached"),
        ("AuthFailure", "AWS rejected the credentials"),
        ("UnauthorizedOperation", "grant the missing IAM permission"),
        ("InvalidAMIID.NotFound", "set aws.ami"),
        ("InsufficientInstanceCapacity", "try another instance type or region"),
        ("OptInRequired", "not enabled for the account"),
        ("Throttling", "AWS error while creating"),
    ],
)
def test_botocore_errors_become_one_line(code: str, expected: str) -> None:
    error = botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "details\nmore"}}, "RunInstances")
    line = explain(error, "creating")
    assert expected in line and "\n" not in line


def test_unreachable_endpoint_is_named() -> None:
    error = botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")
    assert "check the network, or AWS_ENDPOINT_URL" in explain(error, "checking")


# --- the operator's address ---------------------------------------------------------------


@pytest.fixture
def myip_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"198.51.100.23\n")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_address_detection(myip_server: str) -> None:
    assert detect_public_cidr(myip_server) == "198.51.100.23/32"


def test_address_detection_without_network_asks_for_allow_from() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(UsageError, match=r"could not detect your public address .*pass --allow-from CIDR"):
        detect_public_cidr(f"http://127.0.0.1:{closed}/", timeout=2)


def test_cidrs_are_normalised() -> None:
    assert parse_allow_from("203.0.113.7") == "203.0.113.7/32"
    assert parse_allow_from(" 203.0.113.9/24 ") == "203.0.113.0/24"
    with pytest.raises(UsageError, match="IPv4 only"):
        parse_allow_from("2001:db8::/64")


# --- secrets and keys ------------------------------------------------------------------------


HOLD_CREDENTIALS = r"""
import sys, json, boto3
from pathlib import Path
from labctl.providers.aws.session import AwsSession
session = boto3.Session(aws_access_key_id="AKIAUNITTEST", aws_secret_access_key="unit-secret-value", aws_session_token="unit-token")
with AwsSession(region="eu-central-1", session=session).ansible_env(Path(sys.argv[1])) as env:
    print(json.dumps(env), flush=True)
    sys.stdin.read()
"""

READ_CREDENTIALS = "import boto3; c = boto3.Session().get_credentials(); print(c.access_key, c.secret_key, c.token)"


def test_ansible_credentials_die_with_labctl(tmp_path: Path) -> None:
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p)}
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_CREDENTIALS, str(lab_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert holder.stdout is not None
        given = json.loads(holder.stdout.readline())
        assert given["AWS_PROFILE"] == "labctl" and given["AWS_REGION"] == "eu-central-1"
        assert not any("unit-secret" in value for value in given.values())
        credentials = Path(given["AWS_SHARED_CREDENTIALS_FILE"])
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        # Another process (the playbook's AWS modules) reads them with boto, as Ansible does.
        read = subprocess.run([sys.executable, "-c", READ_CREDENTIALS], capture_output=True, text=True, check=True,
                              env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **given})
        assert read.stdout.split() == ["AKIAUNITTEST", "unit-secret-value", "unit-token"]
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    assert not credentials.exists()
    leaked = [p for p in tmp_path.rglob("*") if p.is_file() and "unit-secret" in p.read_text(errors="replace")]
    assert leaked == []


def test_ssh_key_is_generated_once_and_private(tmp_path: Path) -> None:
    key = tmp_path / "u1" / "ssh" / "id_ed25519"
    first = ensure_ssh_key(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert first.startswith("ssh-ed25519 ") and first.endswith(" labctl-u1")
    assert ensure_ssh_key(key) == first
    assert key.with_suffix(".pub").read_text().strip() == first


# --- inventory shape ------------------------------------------------------------------------


def _instance(instance_id: str, role: str, name: str, private_ip: str, public_ip: str = "", state: str = "running") -> dict[str, object]:
    tags = [{"Key": "labctl-lab", "Value": "u1"}, {"Key": "labctl-role", "Value": role}, {"Key": "labctl-node", "Value": name}]
    found: dict[str, object] = {"InstanceId": instance_id, "State": {"Name": state}, "PrivateIpAddress": private_ip, "Tags": tags}
    if public_ip:
        found["PublicIpAddress"] = public_ip
    return found


def test_flatcar_inventory_logs_in_as_core_with_its_python(tmp_path: Path) -> None:
    instances = [
        _instance("i-3", "worker", "worker-10", "10.60.1.12", "198.51.100.12"),
        _instance("i-2", "worker", "worker-2", "10.60.1.11", "198.51.100.11"),
        _instance("i-1", "controller", "controller-1", "10.60.1.10", "198.51.100.10"),
        _instance("i-4", "worker", "worker-3", "10.60.1.13", state="terminated"),
    ]
    key = tmp_path / "id_ed25519"
    inventory = build_inventory("u1", instances, ssh_user="core", inventory_vars={"node_os": "flatcar"}, ssh_key_path=key,
                                python_interpreter=FLATCAR_PYTHON)
    assert [n.name for n in inventory.nodes] == ["controller-1", "worker-2", "worker-10"]
    worker = inventory.node("worker-2")
    assert (worker.ansible_host, worker.node_ip, worker.ansible_user) == ("198.51.100.11", "10.60.1.11", "core")
    assert worker.extra == {
        "instance_id": "i-2",
        "ansible_become": True,
        "ansible_ssh_private_key_file": str(key),
        "ansible_python_interpreter": FLATCAR_PYTHON,
    }
    # Python is set per host: the implicit localhost keeps its own.
    assert "ansible_python_interpreter" not in inventory.to_ansible()["all"]["vars"]


def test_sample_inventory_has_the_shape_labctl_writes() -> None:
    sample = yaml.safe_load((Path(__file__).resolve().parents[2] / "inventories" / "aws.sample.yml").read_text())
    inventory = from_ansible(sample)
    built = build_inventory(
        "demo",
        [_instance("i-1", "controller", "controller-1", "10.60.1.10", "198.51.100.10")],
        ssh_user="admin",
        inventory_vars={},
    )
    assert inventory.provider == "aws" and [n.role for n in inventory.nodes] == ["controller", "worker", "worker"]
    assert set(sample["all"]["children"]) == set(built.to_ansible()["all"]["children"])
    assert set(inventory.nodes[0].extra) == {"instance_id", "ansible_become", "ansible_ssh_private_key_file"}
