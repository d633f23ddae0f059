"""Loopback load: wrk when installed (Debian's ``wrk``), else a bounded asyncio HTTP/1.1 keep-alive client. Both stop
by themselves after ``seconds`` and count every error. A pass bounded in requests (``max_requests``: the warm-ups,
one request per path) always uses the Python client: wrk can stop sending after N responses, but not end its run
before its duration, and would report its rate over the whole duration."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import percentile


@dataclass
class Load:
    tool: str
    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # connection errors, timeouts and non-2xx answers

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.requests > 0


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


UNBOUNDED = 2_000_000


def run_load(base_url: str, paths: list[str], accept: str, *, seconds: float, connections: int,
             tool: str = "auto", max_requests: int = UNBOUNDED) -> Load:
    if (tool == "wrk" or (tool == "auto" and have_wrk())) and max_requests >= UNBOUNDED:
        return _wrk(base_url, paths, accept, seconds, connections)
    return asyncio.run(_python(base_url, paths, accept, seconds, connections, max_requests))


# --- wrk ------------------------------------------------------------------------------------------------------------

_SCRIPT = """
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Accept"] = "%s"})
end
"""


def _wrk(base_url: str, paths: list[str], accept: str, seconds: float, connections: int) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_SCRIPT % (", ".join(f'"{path}"' for path in paths), accept))
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s",
             "-s", script.name, base_url],
            capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    finally:
        Path(script.name).unlink()
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)$", out, re.MULTILINE))
    errors = 0
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if found:
        errors += int(found.group(1))
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if found:
        errors += sum(int(group) for group in found.groups())
    return Load("wrk", requests, requests / rate if rate else seconds, rate, _ms(latency["50"]), _ms(latency["99"]),
                errors)


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


# --- a Python load generator ----------------------------------------------------------------------------------------


async def _python(base_url: str, paths: list[str], accept: str, seconds: float, connections: int,
                  max_requests: int) -> Load:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal errors, issued
        reader, writer = await asyncio.open_connection(host, port)
        index = offset
        try:
            while time.perf_counter() < deadline and issued < max_requests:
                issued += 1
                path = paths[index % len(paths)]
                index += connections
                start = time.perf_counter()
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n\r\n".encode())
                try:
                    status, _length = await asyncio.wait_for(_response(reader), timeout=10)
                except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    return
                latencies.append(time.perf_counter() - start)
                if not 200 <= status < 400:
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(connections)))
    elapsed = time.perf_counter() - began
    return Load("python", len(latencies), elapsed, len(latencies) / elapsed, percentile(latencies, 0.5) * 1000,
                percentile(latencies, 0.99) * 1000, errors)


# The two headers the client needs, found by one regular-expression search each: a loop over every header line in
# Python cost the client (which shares the machine's cores with the server) in proportion to the number of headers,
# and so charged the product's security, cache and link headers to the product's rate (the floor sends two).
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r]*chunked", re.IGNORECASE)


async def _response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])  # "HTTP/1.1 200 OK"
    found = _LENGTH.search(head)
    length = int(found.group(1)) if found else 0
    if _CHUNKED.search(head):
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            total += size
            if size == 0:
                return status, total
    await reader.readexactly(length)
    return status, length
