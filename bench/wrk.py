"""The load generator of bench/api.py: wrk (C, epoll) scripted by ``load.lua``.

wrk runs as a separate process on 127.0.0.1 with two threads; each connection sends its next
request when the previous one is answered (a closed loop, keep-alive). A run is bounded in time
(``--duration``) and in count (a most number of responses per thread, and for requests that may
be sent only once, the prepared list).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
THREADS = 2


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    socket_errors: int
    timeouts: int
    exhausted: bool
    """A thread ran out of prepared requests before the time was up: the rate is too low."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def count(self, low: int, high: int) -> int:
        """Responses with a status in ``low`` to ``high``."""
        return sum(n for status, n in self.statuses.items() if low <= status <= high)


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("bench/api.py needs wrk: apt-get install -y wrk")
    return found


def run(
    url: str,
    lines: Sequence[str],
    *,
    connections: int,
    seconds: float,
    token: str,
    once: bool,
    folder: Path,
    most: int,
) -> Load:
    """Send ``lines`` ("METHOD PATH [BODY]") to ``url`` over ``connections`` connections for at
    most ``seconds`` and ``most`` responses (in a loop, or each line ``once``)."""
    requests = folder / "requests.txt"
    requests.write_text("\n".join(lines) + "\n")
    command = [
        require_wrk(), "--threads", str(THREADS), "--connections", str(connections),
        "--duration", f"{max(1, math.ceil(seconds))}s", "--timeout", "30s",
        "--script", str(HERE / "load.lua"), url,
        "--", str(requests), str(THREADS), "once" if once else "cycle",
        str(math.ceil(most / THREADS)), token,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    report = json.loads(next(ln for ln in done.stdout.splitlines() if ln.startswith('{"requests"')))
    return Load(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        max_ms=report["max_us"] / 1000,
        statuses={int(status): n for status, n in report["statuses"].items()},
        socket_errors=report["socket_errors"],
        timeouts=report["timeouts"],
        exhausted=report["exhausted_threads"] > 0,
    )
