"""Mail benchmark: login-link latency behind a backlog, and delivery after an SMTP outage.

    python bench/mail_bench.py --server-url postgresql://postgres@127.0.0.1:5432/postgres

Creates a throw-away database on that server (dropped at the end), migrates it, runs a real
SMTP sink (aiosmtpd) in this process and one real worker (`aplus worker`, production
settings) as a subprocess, then:

1. **backlog**: writes N notification e-mails (committed outbox rows and jobs, priority
   "normal"), waits until the worker is sending them, queues a login link, and measures the
   time from its commit to its arrival at the sink; repeated with the login link queued as a
   normal mail ("before": the priority ignored) for comparison;
2. **outage**: stops the sink, queues M mails, keeps the sink down for D seconds (long
   enough for several tries each), restarts it and measures the time until every mail
   arrived, and checks each arrived exactly once.

Prints a JSON summary; results are written up in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.smtp import SmtpSink, free_port  # noqa: E402


def with_dbname(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def wait_for(predicate, timeout: float, step: float = 0.01) -> float:
    """Seconds until `predicate()` holds (raises after `timeout`)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
    return time.monotonic() - start


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


async def run(args) -> dict:
    from app import emails
    from app.jobs import queue
    from app.piccolo_conf import DB

    await DB.start_connection_pool(min_size=1, max_size=4)
    sink = SmtpSink(int(os.environ["SMTP_URL"].rsplit(":", 1)[1]))
    sink.start()
    worker = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; main()", "worker"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=open(ROOT / "bench" / "mail_bench_worker.log", "w"),  # noqa: SIM115
    )
    results: dict = {"backlog": args.backlog, "outage_mails": args.outage_mails}
    try:
        for label, urgent in (("urgent", True), ("same_priority", False)):
            sink.messages.clear()
            for i in range(args.backlog):
                await emails.new_answer(f"agent{i}@bench.fr", "http://bench/demandes/x")
            # Measure while the backlog is being worked through, not before it starts.
            log(f"{label}: {args.backlog} queued")
            await wait_for(lambda: len(sink.messages) >= 20, 120)
            address = f"login-{label}@bench.fr"
            queued = time.monotonic()
            await emails.queue_email(
                "login_link",
                [address],
                {
                    "url": "http://bench/connexion/lien/t",
                    "expires_at": emails.PREVIEWS["login_link"]["expires_at"],
                },
                urgent=urgent,
            )
            await wait_for(lambda a=address: bool(sink.to(a)), 600)
            latency = time.monotonic() - queued
            left = args.backlog - len([m for m in sink.messages if m.to[0].startswith("agent")])
            results[label] = {
                "login_link_seconds": round(latency, 3),
                "backlog_left_when_it_arrived": left,
            }
            log(f"{label}: {results[label]}")
            await wait_for(lambda: len(sink.messages) >= args.backlog + 1, 600, step=0.1)
            log(f"{label}: backlog sent")

        # Outage: the sink is down for a while, then up again.
        sink.stop()
        sink.messages.clear()
        for i in range(args.outage_mails):
            await emails.new_answer(f"panne{i}@bench.fr", "http://bench/demandes/x")
        await asyncio.sleep(args.outage_seconds)
        sink.start()
        back = time.monotonic()
        log("outage: SMTP back")
        await wait_for(lambda: len(sink.messages) >= args.outage_mails, 600, step=0.05)
        results["outage"] = {
            "down_seconds": args.outage_seconds,
            "all_delivered_seconds_after_return": round(time.monotonic() - back, 2),
        }
        # Give late duplicates a chance to show up before counting.
        await asyncio.sleep(args.settle)
        copies = Counter(m.to[0] for m in sink.messages)
        results["outage"]["duplicates"] = sum(c - 1 for c in copies.values())
        results["outage"]["delivered"] = len(copies)
    finally:
        worker.terminate()
        worker.wait(30)
        sink.stop()
        await DB.close_connection_pool()
        q = await queue.get_queue()
        await q.disconnect()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--outage-mails", type=int, default=200)
    parser.add_argument("--outage-seconds", type=float, default=30)
    parser.add_argument("--settle", type=float, default=10)
    args = parser.parse_args()

    name = f"aplus_mailbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(
        {
            "DATABASE_URL": with_dbname(args.server_url, name),
            "SMTP_URL": f"smtp://127.0.0.1:{free_port()}",
            "SECRET_KEY": "bench-" + uuid.uuid4().hex,
            "FILE_KEYS": "bench1:" + "A" * 43 + "=",
            "BASE_URL": "http://bench",
            "APLUS_ENV": "test",
            "PICCOLO_CONF": "app.piccolo_conf",
        }
    )
    try:
        subprocess.run(
            [sys.executable, "-c", "from app.cli import main; main()", "migrate"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results = asyncio.run(run(args))
        results["started"] = started
        results["load_average_1min"] = os.getloadavg()[0]
        results["machine"] = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU"
        print(json.dumps(results, indent=2))
        out = ROOT / "bench" / "results-mail.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
    finally:
        with psycopg.connect(args.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
