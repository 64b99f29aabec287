"""AWS provider tests: moto's server on 127.0.0.1 over real HTTP, dummy credentials, never a real account.

The server runs in a child process (tests/aws/moto_launcher.py) started once per
session and stopped by its PID. `labctl` itself runs as a subprocess, as a user
would run it, with AWS_ENDPOINT_URL pointing at the emulator.
"""

import importlib.metadata
import os
import select
import subprocess
import sys
from collections.abc import Iterator

import pytest
from awshelpers import HERE, Moto

# The launcher fills gaps of this exact release (see moto_launcher.py); pyproject pins it.
MOTO_VERSION = "5.2.5"


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moto]:
    installed = importlib.metadata.version("moto")
    if installed != MOTO_VERSION:
        pytest.fail(f"tests/aws need moto {MOTO_VERSION} (installed: {installed}): pip install 'moto[server]=={MOTO_VERSION}'")
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    # moto ships no Debian or Flatcar images: the fixture list carries look-alikes
    # under the real publishers' account ids (and one impostor that must be ignored).
    env = {**os.environ, "MOTO_AMIS_PATH": str(HERE / "amis.json")}
    with log.open("w") as log_handle:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "moto_launcher.py")], stdout=subprocess.PIPE, stderr=log_handle, env=env, text=True
        )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline().strip() if ready and process.stdout else ""
        if not line.isdigit():
            raise RuntimeError(f"moto server did not start: {log.read_text()[-2000:]}")
        yield Moto(endpoint=f"http://127.0.0.1:{line}", pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
