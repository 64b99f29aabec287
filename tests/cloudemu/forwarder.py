"""Load balancers that forward for real: a TCP listener per (address, port) passing each
connection to the next target that accepts it (round robin; a refused or silent target
is skipped, as a health-checked network load balancer does).

The cloud emulator models a load balancer only as an API object; this makes its
address answer, so the apps' URLs work as they would on the cloud.
"""

import asyncio
import itertools
import threading
from collections.abc import Callable

Targets = Callable[[], list[tuple[str, int]]]
CONNECT_TIMEOUT_S = 2.0


class Forwarders:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.servers: dict[tuple[str, int], asyncio.base_events.Server] = {}
        self.counter = itertools.count()
        self.thread = threading.Thread(target=self.loop.run_forever, name="forwarders", daemon=True)
        self.thread.start()

    def listen(self, address: str, port: int, targets: Targets) -> None:
        if (address, port) in self.servers:
            return
        future = asyncio.run_coroutine_threadsafe(self._serve(address, port, targets), self.loop)
        self.servers[(address, port)] = future.result(timeout=10)

    def close(self, address: str, port: int) -> None:
        server = self.servers.pop((address, port), None)
        if server is not None:
            self.loop.call_soon_threadsafe(server.close)

    def stop(self) -> None:
        for key in list(self.servers):
            self.close(*key)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    async def _serve(self, address: str, port: int, targets: Targets) -> asyncio.base_events.Server:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            upstream = await self._connect(targets())
            if upstream is None:
                writer.close()
                return
            up_reader, up_writer = upstream
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)

        return await asyncio.start_server(handle, address, port, reuse_address=True)

    async def _connect(self, candidates: list[tuple[str, int]]) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        if not candidates:
            return None
        start = next(self.counter)
        for i in range(len(candidates)):
            host, port = candidates[(start + i) % len(candidates)]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT_S)
            except (TimeoutError, OSError):
                continue
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
