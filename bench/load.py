"""A small asyncio HTTP/1.1 load generator: keep-alive connections, little CPU per request, so
the service under test keeps the machine's cores. Closed loop (N clients as fast as answered)
or open loop (a fixed arrival rate)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# A request maker returns (method, path, json body or None, extra headers or None).
RequestMaker = Callable[[int], tuple[str, str, object, dict | None]]


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # connection-level failures
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


class Connection:
    def __init__(self, host: str, port: int, token: str | None):
        self.host, self.port, self.token = host, port, token
        self.reader = self.writer = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(payload)}",
        ]
        if body is not None:
            lines.append("Content-Type: application/json")
        if self.token and "Authorization" not in (headers or {}):
            lines.append(f"Authorization: Bearer {self.token}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, close = 0, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def _one(conn: Connection, results: Results, make: RequestMaker, index: int) -> None:
    method, path, body, headers = make(index)
    started = time.perf_counter()
    try:
        status, _ = await conn.request(method, path, body, headers)
    except (OSError, asyncio.IncompleteReadError, ValueError) as error:
        results.errors[type(error).__name__] += 1
        conn.close()
        return
    results.latencies.append(time.perf_counter() - started)
    results.statuses[status] += 1


async def closed_loop(
    base: str, tokens: list[str], concurrency: int, seconds: float, make: RequestMaker
) -> Results:
    """`concurrency` clients, each sending its next request as soon as the last is answered."""
    parts = urlsplit(base)
    results, deadline, counter = Results(), time.perf_counter() + seconds, iter(range(10**12))

    async def client(number: int) -> None:
        conn = Connection(parts.hostname, parts.port, tokens[number % len(tokens)])
        while time.perf_counter() < deadline:
            await _one(conn, results, make, next(counter))
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    results.seconds = time.perf_counter() - started
    return results


async def open_loop(base: str, tokens: list[str], rate: float, seconds: float, make: RequestMaker,
                    max_in_flight: int = 64, on_tick: Callable[[float], None] | None = None) -> Results:  # fmt: skip
    """Requests arrive at `rate` per second whatever the latency (up to max_in_flight at once)."""
    parts = urlsplit(base)
    results = Results()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for number in range(max_in_flight):
        idle.put_nowait(Connection(parts.hostname, parts.port, tokens[number % len(tokens)]))

    async def send(index: int) -> None:
        conn = await idle.get()
        try:
            await _one(conn, results, make, index)
        finally:
            idle.put_nowait(conn)

    started = time.perf_counter()
    tasks, index, next_tick = set(), 0, started
    while (now := time.perf_counter()) < started + seconds:
        due = int((now - started) * rate)
        while index < due:
            task = asyncio.create_task(send(index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            index += 1
        if on_tick and now >= next_tick:
            on_tick(now - started)
            next_tick = now + 5
        await asyncio.sleep(0.002)
    await asyncio.gather(*tasks)
    results.seconds = time.perf_counter() - started
    while not idle.empty():
        idle.get_nowait().close()
    return results
