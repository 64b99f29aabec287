"""Run moto's server (the AWS API emulator) on 127.0.0.1, a free port, with the gaps labctl meets filled
(see tests/cloudemu/moto_fixes.py).

Started by conftest.py as a child process: it prints the port on its first
line and serves until terminated. MOTO_AMIS_PATH must be set by the parent:
moto reads it when first imported.
"""

import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cloudemu"))

import moto_fixes


def main() -> None:
    from moto.server import ThreadedMotoServer

    moto_fixes.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
