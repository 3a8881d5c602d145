"""Load generation shared by the benchmarks: keep-alive connections on threads, in several
processes, with latency percentiles.  Run by hand, never by the test suite."""
from __future__ import annotations

import http.client
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable

#: One request on an open connection: True when the answer was the expected one.
Send = Callable[[http.client.HTTPConnection], bool]


def keep_alive_load(connect: Callable[[], http.client.HTTPConnection], send: Send,
                    seconds: float, connections: int) -> tuple[list[float], int]:
    """``connections`` threads, each on its own connection, send until ``seconds`` pass;
    the latencies of every request and how many answers were wrong."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run() -> None:
        conn = connect()
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = send(conn)
            mine.append(time.perf_counter() - started)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors[0]


def measure(worker: Callable, args: tuple, seconds: float, processes: int,
            connections: int) -> dict:
    """Run ``worker(*args, seconds, connections, queue)`` in ``processes`` processes (each
    puts ``keep_alive_load``'s result on the queue) and summarise them."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=worker, args=(*args, seconds, connections, queue))
             for _ in range(processes)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(lat for lats, _ in results for lat in lats)
    return {"requests": len(latencies), "errors": sum(err for _, err in results),
            "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
            "connections": processes * connections}


def median_round(rounds: list[dict]) -> dict:
    """The round with the median throughput, with every round's throughput."""
    best = sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]
    return {**best, "rps_rounds": [r["rps"] for r in rounds]}
