"""Benchmark of the personal-data wipe on a backlog, with the inbox measured meanwhile.

    python -m bench.retention_bench --database-url postgresql://…/aplus_retbench_20k --label 20k

Expects a database loaded by `aplus seed volume --demandes N` (old demandes are mostly
archived, so a large share is past the 90 days). **Destructive**: it wipes them. Steps:
1. `aplus retention --dry-run` counts the backlog.
2. `aplus web` (production settings, one uvicorn worker) starts; the bench instructeur gets a
   real session (as in `bench/inbox_bench.py`).
3. The inbox (archive tab and first tab, alternately) is requested by `--clients` concurrent
   Python clients for `--idle-seconds`: the idle latencies.
4. `aplus jobs run wipe_personal_data` (the cron's code) runs in its own process while the same
   clients keep requesting: its duration, its peak resident memory (VmHWM sampled from /proc,
   and ru_maxrss), and the inbox latencies while it runs.
Results go to bench/results-retention-<label>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.inbox_bench import prepare, production_env, wait_up

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float], errors: int) -> dict:
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
    }


async def load(base: str, cookie: str, paths: list[str], clients: int, stop: asyncio.Event):
    """Requests until `stop`; (latencies in seconds, error count)."""
    latencies: list[float] = []
    errors = 0

    async def client(n: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, headers={"Cookie": cookie}) as http:
            i = n
            while not stop.is_set():
                started = time.perf_counter()
                response = await http.get(paths[i % len(paths)], timeout=60)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200
                i += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, errors


def peak_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def measure(args, env: dict, base: str, cookie: str) -> dict:
    paths = ["/demandes?onglet=archivees", "/demandes"]
    for path in paths:  # warm up
        async with httpx.AsyncClient(base_url=base, headers={"Cookie": cookie}) as http:
            for _ in range(5):
                await http.get(path, timeout=60)

    stop = asyncio.Event()
    idle_task = asyncio.create_task(load(base, cookie, paths, args.clients, stop))
    await asyncio.sleep(args.idle_seconds)
    stop.set()
    idle = summary(*await idle_task)

    stop = asyncio.Event()
    busy_task = asyncio.create_task(load(base, cookie, paths, args.clients, stop))
    started = time.perf_counter()
    job = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "jobs",
        "run",
        "wipe_personal_data",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    communicating = asyncio.create_task(job.communicate())
    peak = 0
    while not communicating.done():
        peak = max(peak, peak_rss_kib(job.pid))
        await asyncio.wait([communicating], timeout=0.2)
    duration = time.perf_counter() - started
    stop.set()
    busy = summary(*await busy_task)
    out, err = (part.decode() for part in communicating.result())
    if job.returncode != 0:
        raise SystemExit(f"the job failed:\n{err}")
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "idle": idle,
        "during_wipe": busy,
        "wipe": {
            "output": out.strip(),
            "seconds": round(duration, 1),
            "peak_rss_mib_sampled": round(peak / 1024, 1),
            "peak_rss_mib_rusage": round(children_peak / 1024, 1),
        },
    }


async def days_for(args) -> int:
    """The retention (days) that leaves about `args.backlog` archived demandes past it."""
    import asyncpg

    conn = await asyncpg.connect(args.database_url)
    try:
        oldest = await conn.fetchval(
            "SELECT archived_at FROM application WHERE status = 'archived'"
            " AND personal_data_wiped_at IS NULL ORDER BY archived_at OFFSET $1 LIMIT 1",
            args.backlog - 1,
        )
    finally:
        await conn.close()
    return max(1, (datetime.now(UTC) - oldest).days)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--idle-seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8775)
    parser.add_argument(
        "--backlog",
        type=int,
        default=0,
        help="size the backlog: PERSONAL_DATA_RETENTION_DAYS set so that about this many"
        " archived demandes are past it (0: the configured 90 days)",
    )
    args = parser.parse_args()

    env = production_env(args.database_url)
    if args.backlog:
        env["PERSONAL_DATA_RETENTION_DAYS"] = str(asyncio.run(days_for(args)))
    dry = subprocess.run(
        [sys.executable, "-m", "app.cli", "retention", "--dry-run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    print(dry)
    info = asyncio.run(prepare(args.database_url))
    web = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "web", "--port", str(args.port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{args.port}"
        wait_up(base + "/sante")
        figures = asyncio.run(measure(args, env, base, info["cookie"]))
    finally:
        web.terminate()
        web.wait(timeout=20)
    results = {
        "label": args.label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_avg_1min_at_end": round(os.getloadavg()[0], 1),
        "database": {
            "demandes": info["total"],
            "messages": info["answers"],
            "bench_user_scope": info["scope"],
        },
        "personal_data_retention_days": env.get("PERSONAL_DATA_RETENTION_DAYS", "90"),
        "dry_run_before": dry.strip().splitlines(),
        "clients": args.clients,
        "load_tool": "Python httpx clients on the same machine (wrk not installed)",
        **figures,
    }
    path = ROOT / "bench" / f"results-retention-{args.label}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    print(f"saved to {path}")


if __name__ == "__main__":
    main()
