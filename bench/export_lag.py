"""The inbox CSV export on a real database: CPU, and the longest CPU stretch between two turns
of the event loop (what another request on the same worker would wait for).

    python bench/export_lag.py --database-url postgresql://postgres@127.0.0.1:5432/aplus_bench_1m

Exports the bench instructeur's scope with `inbox_export.export_csv` while a ticker task
wakes every millisecond; each gap is measured in thread CPU time, not wall time, so other
processes of a shared machine do not count as blocking. PostgreSQL writes the CSV (`COPY`):
`machine_cpu_s` counts every process of the machine over the export, its share included.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_EMAIL = "bench.instructeur@volume.aplus.localhost"


def machine_cpu() -> float:
    """CPU seconds spent by the whole machine so far (user + nice + system), /proc/stat."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:4]
    return sum(int(f) for f in fields) / os.sysconf("SC_CLK_TCK")


async def run(dsn: str) -> dict:
    os.environ["DATABASE_URL"] = dsn
    os.environ.setdefault("APLUS_VAR_DIR", "/tmp/aplus-bench-var")
    from app.domain import inbox_export, sessions
    from app.piccolo_conf import DB
    from app.tables import User

    DB.config["dsn"] = dsn
    await DB.start_connection_pool(min_size=1, max_size=2)
    from app.domain import business_days

    # What a web worker does at start-up (app/main.py `_ready`): the holiday rules' first
    # load is not the export's, and the objects built so far are out of the collector's reach.
    business_days.warm()
    gc.freeze()
    user = (await User.select().where(User.email == BENCH_EMAIL))[0]
    viewer = await sessions.build_viewer(user)
    gaps: list[float] = []
    done = False

    async def ticker() -> None:
        last = time.thread_time()
        while not done:
            await asyncio.sleep(0.001)
            now = time.thread_time()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    machine = machine_cpu()
    cpu, wall, lines = time.process_time(), time.perf_counter(), 0
    async for chunk in inbox_export.export_csv(viewer):
        lines += chunk.count(b"\n")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    machine = machine_cpu() - machine
    done = True
    await task
    await DB.close_connection_pool()
    gaps.sort()
    return {
        "rows": lines - 1,
        "cpu_s": round(cpu, 3),
        # Every process of the machine (PostgreSQL's COPY included): quiet machine only.
        "machine_cpu_s": round(machine, 3),
        "wall_s": round(wall, 3),
        "longest_loop_block_cpu_ms": round(gaps[-1] * 1000, 1),
        "p99_loop_block_cpu_ms": round(gaps[int(len(gaps) * 0.99)] * 1000, 1),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.database_url))))


if __name__ == "__main__":
    main()
