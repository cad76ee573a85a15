"""Mail benchmark: login-link latency behind a backlog, and delivery after an SMTP outage.

    python bench/mail_bench.py --server-url postgresql://postgres@127.0.0.1:5432/postgres

Creates a throw-away database on that server (dropped at the end), migrates it, runs a real
SMTP sink (aiosmtpd) in this process and one real worker (`aplus worker`) as a
subprocess, then:

1. **backlog**: writes N notification e-mails (committed outbox rows and jobs, priority
   "normal"), waits until the worker is sending them, queues a login link, and measures the
   time from its commit to its arrival at the sink, then how long the rest of the backlog
   takes (what the link would wait without its priority);
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
import tempfile
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


async def wait_for(predicate, within: float, step: float = 0.01) -> float:
    """Seconds until `predicate()` holds (raises after `within` seconds)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > within:
            raise TimeoutError("condition not met")
        await asyncio.sleep(step)
    return time.monotonic() - start


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


def start_worker() -> subprocess.Popen:
    """One real worker, as in production (`aplus worker`), its log in the temp folder."""
    with open(Path(tempfile.gettempdir()) / "mail_bench_worker.log", "w") as log_file:
        return subprocess.Popen(
            [sys.executable, "-c", "from app.cli import main; main()", "worker"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )


async def run(args) -> dict:
    from app import emails
    from app.jobs import queue
    from app.piccolo_conf import DB

    await DB.start_connection_pool(min_size=1, max_size=4)
    sink = SmtpSink(int(os.environ["SMTP_URL"].rsplit(":", 1)[1]))
    sink.start()
    results: dict = {"backlog": args.backlog, "outage_mails": args.outage_mails}
    try:
        sink.messages.clear()
        started = time.monotonic()
        for i in range(args.backlog):
            await emails.new_answer(f"agent{i}@bench.fr", "http://bench/demandes/x")
        log(f"{args.backlog} notifications queued in {time.monotonic() - started:.1f} s")
        # Measure while the backlog is being worked through, not before it starts.
        await wait_for(lambda: len(sink.messages) >= 20, 300)
        queued = time.monotonic()
        await emails.login_link(
            "login@bench.fr",
            "http://bench/connexion/lien/t",
            emails.PREVIEWS["login_link"]["expires_at"],
        )
        await wait_for(lambda: bool(sink.to("login@bench.fr")), 1200)
        latency = time.monotonic() - queued
        left = args.backlog - (len(sink.messages) - 1)
        results["login_link"] = {"seconds": round(latency, 3), "backlog_left_then": left}
        log(f"login link: {results['login_link']}")
        # Without the priority, the link would wait for that backlog (SAQ is FIFO by
        # scheduled time within a priority): the time the rest takes is that wait.
        rest = time.monotonic()
        await wait_for(lambda: len(sink.messages) >= args.backlog + 1, 3600, step=0.2)
        results["backlog_rest_seconds"] = round(time.monotonic() - rest, 1)
        results["send_rate_per_second"] = round(left / (time.monotonic() - rest), 1)
        log(f"backlog sent: {results['backlog_rest_seconds']} s")

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
        worker = start_worker()
        try:
            results = asyncio.run(run(args))
        finally:
            worker.terminate()
            worker.wait(30)
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
