"""An emulated cloud whose instances are real local machines: `python tests/cloudemu/emulated_cloud.py aws`.

Prints the environment to export (shell syntax), then `# ready`, and runs until
SIGTERM/SIGINT; then removes every machine, bridge and rule it made. A run that
was killed leaves its state under the cache; the next run (or `--cleanup`)
removes it first. Run as root: machines are systemd-nspawn containers.
"""

import argparse
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import fabric  # noqa: E402
from cloud_image import ensure_image  # noqa: E402
from forwarder import Forwarders  # noqa: E402
from machines import Machines  # noqa: E402

from labctl.paths import cache_home  # noqa: E402

DEFAULT_PUBLIC = {"aws": "10.199.0.0/24", "openstack": "10.198.0.0/24"}
ACCESS_KEY = "AKIAEMULATEDCLOUD001"
SECRET_KEY = "emulatedCloudSecretNotARealKey0000000000"
RECONCILE_S = 0.5


def state_dir(cloud: str) -> Path:
    return cache_home() / "emulated-cloud" / cloud


def cleanup(cloud: str) -> list[str]:
    removed = [f"machine {i}" for i in Machines(state_dir(cloud) / "machines", Path("/nonexistent")).remove_all()]
    return removed + fabric.teardown(cloud)


def serve(args: argparse.Namespace, stop: threading.Event) -> None:
    net = fabric.Fabric(args.cloud, ipaddress.IPv4Network(args.public_cidr or DEFAULT_PUBLIC[args.cloud]))
    image = ensure_image(state_dir(args.cloud) / "image-build.log")
    machines = Machines(state_dir(args.cloud) / "machines", image)
    net.start()
    cloud, exports, stop_api = start_aws(args, net, machines) if args.cloud == "aws" else start_openstack(args, net, machines)
    try:
        for name, value in exports.items():
            print(f"export {name}={value}")
        print(f"# this host reaches the emulated cloud from {net.operator_address}: --allow-from {net.operator_address}/32")
        print("# ready", flush=True)
        while not stop.wait(RECONCILE_S):
            try:
                cloud.reconcile()
            except Exception:
                logging.exception("reconcile failed")
    finally:
        stop_api()
        cloud.teardown()
        fabric.teardown(args.cloud)


def start_aws(args: argparse.Namespace, net: fabric.Fabric, machines: Machines) -> tuple[Any, dict[str, str], Callable[[], None]]:
    os.environ.setdefault("MOTO_AMIS_PATH", str(REPO / "tests" / "aws" / "amis.json"))
    import moto_fixes
    from aws_cloud import AwsCloud
    from moto.server import ThreadedMotoServer

    forwarders = Forwarders()
    cloud = AwsCloud(net, machines, forwarders)
    moto_fixes.apply()
    cloud.patch()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    exports = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.get_host_and_port()[1]}",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": args.region,
        "AWS_DEFAULT_REGION": args.region,
        # Never ask a metadata address for credentials.
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    def stop_api() -> None:
        server.stop()
        forwarders.stop()

    return cloud, exports, stop_api


def start_openstack(args: argparse.Namespace, net: fabric.Fabric, machines: Machines) -> tuple[Any, dict[str, str], Callable[[], None]]:
    from openstack_cloud import OpenStackCloud

    cloud = OpenStackCloud(net, machines)
    exports = cloud.start(state_dir(args.cloud))
    return cloud, exports, lambda: None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cloud", choices=["aws", "openstack"])
    parser.add_argument("--public-cidr", default="", help="private range standing in for public addresses (default by cloud)")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--port", type=int, default=0, help="the API's port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--cleanup", action="store_true", help="remove what a killed run left, then exit")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("error: the emulated cloud boots machines with systemd-nspawn: run it as root", file=sys.stderr)
        return 2
    state_dir(args.cloud).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=state_dir(args.cloud) / "emulator.log", level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    leftovers = cleanup(args.cloud)
    if leftovers:
        print(f"# removed what an earlier run left: {', '.join(leftovers)}", file=sys.stderr)
    if args.cleanup:
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    serve(args, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
