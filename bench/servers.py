"""Server processes for bench/api.py: ``kosiflow serve`` and the ceiling app, on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STARTUP_SECONDS = 60
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    """A running server: its port, and the CPU time its processes have used."""

    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """User and system time of the server and its worker processes so far (Linux)."""
        return sum(_cpu_seconds(pid) for pid in _family(self.pid))


def _family(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            found.extend(_family(int(child)))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def _running(command: Sequence[str], port: int, ready: str, log: Path) -> Iterator[Server]:
    """Run ``command`` (in a process group of its own, in the repository's folder: ``-m``
    would import ``bench/api.py`` as ``api`` from here) until the block ends; yields it once
    ``GET ready`` answers 200."""
    with log.open("a") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _answers(port, ready):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[2:]} did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield Server(port, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)  # uvicorn's supervisor ends its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this function started
            process.wait(timeout=15)


def kosiflow(database_url: str, workers: int, log: Path) -> AbstractContextManager[Server]:
    """``kosiflow serve --workers N`` on ``database_url`` (the repository's workflows)."""
    port = free_port()
    command = [
        sys.executable, "-m", "kosiflow", "--database", database_url,
        "--workflows", str(ROOT / "workflows"),
        "serve", "--no-demo", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    return _running(command, port, "/api/v1/health", log)


def ceiling(workers: int, log: Path) -> AbstractContextManager[Server]:
    """The bare FastAPI app of ``ceiling.py``."""
    port = free_port()
    command = [
        sys.executable, str(HERE / "ceiling.py"), "--port", str(port), "--workers", str(workers)
    ]  # fmt: skip
    return _running(command, port, "/", log)
