"""Benchmark of the inbox under concurrency, next to the framework floor, in one run.

    python bench/inbox_bench.py --database-url postgresql://postgres@127.0.0.1:5432/aplus_bench_1m \
        --label 1M

Expects a database loaded by `aplus seed volume --demandes N`. Starts the real app with
`aplus web` (production settings: APLUS_ENV=production, one uvicorn worker) and the floor app
with the same uvicorn options, logs the bench instructeur in through a real server-side
session, then runs `wrk` (apt-get install -y wrk) on each scenario and prints/saves p50/p95
latency and requests/s. The demande page is measured only if the route exists (404: skipped).

Besides wrk's figures, each scenario reports the app's own CPU per request (user + system time
of the uvicorn processes over the 8-connection run, divided by its requests: no client, no
PostgreSQL) and, at the end, the resident memory of each worker.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
BENCH_EMAIL = "bench.instructeur@volume.aplus.localhost"


def wait_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start: {url}")


def status_of(url: str, cookie: str) -> int:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def sealed(terms: str, user_id) -> str:
    """The URL token of a search (terms never travel in clear), sealed with the app's key."""
    from app.domain import search_tokens

    return search_tokens.seal(terms, user_id)


def csrf_cookie() -> str:
    from litestar.middleware.csrf import generate_csrf_token

    return generate_csrf_token(os.environ["SECRET_KEY"])


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (uvicorn's workers)."""
    pids, i = [pid], 0
    while i < len(pids):
        for task in Path(f"/proc/{pids[i]}/task").glob("*"):
            children = (task / "children").read_text().split()
            pids.extend(int(c) for c in children)
        i += 1
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process tree, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def rss_mb(pid: int) -> dict[int, float]:
    """Resident memory of each process of the tree, in MB."""
    out = {}
    for p in process_tree(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out[p] = round(int(line.split()[1]) / 1024, 1)
    return out


def cold_latency(url: str, cookie: str, dsn: str, user_id, n: int = 30) -> dict:
    """One connection, each request after a change of the viewer's inbox version (what any
    change to their demandes does): the counts are computed, not read from the cache."""

    async def measure() -> list[float]:
        conn = await asyncpg.connect(dsn)
        times = []
        try:
            for _ in range(n):
                await conn.execute(
                    "UPDATE app_user SET inbox_version = inbox_version + 1 WHERE id = $1", user_id
                )
                started = time.perf_counter()
                status_of(url, cookie)
                times.append((time.perf_counter() - started) * 1000)
        finally:
            await conn.close()
        return sorted(times)

    times = asyncio.run(measure())
    return {
        "requests": n,
        "p50_ms": round(times[n // 2], 2),
        "p95_ms": round(times[min(n - 1, int(n * 0.95))], 2),
    }


def etag_of(url: str, cookie: str) -> str:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("ETag", "")


async def prepare(dsn: str) -> dict:
    """A session for the bench instructeur, and the URLs worth measuring."""
    conn = await asyncpg.connect(dsn)
    try:
        user = await conn.fetchrow("SELECT id FROM app_user WHERE email = $1", BENCH_EMAIL)
        if user is None:
            raise SystemExit("no bench user: run `aplus seed volume --demandes N` first")
        raw = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await conn.execute(
            'INSERT INTO user_session (id, id_hash, "user", created_at, last_seen_at, expires_at,'
            " signature) VALUES (gen_random_uuid(), $1, $2, $3, $3, $4, '')",
            hashlib.sha256(raw.encode()).hexdigest(),
            user["id"],
            now,
            now + timedelta(days=1),
        )
        scope = await conn.fetchval(
            'SELECT count(*) FROM participation WHERE "user" = $1', user["id"]
        )
        total = await conn.fetchval("SELECT count(*) FROM application")
        answers = await conn.fetchval("SELECT count(*) FROM answer")
        archived = await conn.fetchval(
            "SELECT count(*) FROM participation WHERE \"user\" = $1 AND app_status = 'archived'",
            user["id"],
        )
        # A deep page: 90 % into the biggest tab (keyset cursor, as the "next" links build it).
        deep = await conn.fetchrow(
            "SELECT app_updated_at, application FROM participation"
            " WHERE \"user\" = $1 AND app_status = 'archived'"
            " ORDER BY app_updated_at DESC, application DESC OFFSET $2 LIMIT 1",
            user["id"],
            int(archived * 0.9),
        )
        cursor = f"{int(deep['app_updated_at'].timestamp() * 1_000_000)}_{deep['application'].hex}"
        # A usager name that exists in the scope, searched without its accents.
        name = await conn.fetchrow(
            "SELECT a.usager_first_name, a.usager_last_name FROM participation p"
            ' JOIN application a ON a.id = p.application WHERE p."user" = $1'
            " AND a.usager_first_name = 'Élodie' ORDER BY a.usager_last_name, a.id LIMIT 1",
            user["id"],
        )
        long_thread = await conn.fetchval(
            "SELECT p.application FROM participation p JOIN application a"
            ' ON a.id = p.application WHERE p."user" = $1 ORDER BY a.answers_count DESC LIMIT 1',
            user["id"],
        )
        long_count = await conn.fetchval(
            "SELECT count(*) FROM answer WHERE application = $1", long_thread
        )
    finally:
        await conn.close()
    last = name["usager_last_name"] if name else "Dupont"
    import unicodedata

    plain = "".join(
        c for c in unicodedata.normalize("NFKD", f"elodie {last}") if not unicodedata.combining(c)
    ).lower()
    # A word in about a third of the scope (the volume's subjects and messages).
    common = sealed("attestation", user["id"])
    return {
        # A CSRF cookie, as a browser has after its first page: the token in the page's forms
        # is then the same on every request, as for a real user.
        "cookie": f"aplus_session={raw}; aplus_csrf={csrf_cookie()}",
        "user_id": user["id"],
        "scope": scope,
        "total": total,
        "answers": answers,
        "scenarios": [
            ("inbox first page (Nouvelles)", "/demandes"),
            ("tab En cours", "/demandes?onglet=en-cours"),
            ("tab En souffrance", "/demandes?onglet=en-souffrance"),
            ("tab Traitées", "/demandes?onglet=traitees"),
            ("tab Archivées", "/demandes?onglet=archivees"),
            ("deep page (90 % of Archivées)", f"/demandes?onglet=archivees&apres={cursor}"),
            ("inbox first page, revalidated (If-None-Match)", "/demandes#etag"),
            ("search usager name", "/demandes?recherche=" + sealed(plain, user["id"])),
            ("search common word", "/demandes?recherche=" + common),
            (f"demande page ({long_count} messages)", f"/demandes/{long_thread}"),
        ],
    }


def production_env(database_url: str) -> dict[str, str]:
    """The environment of `aplus web` (and jobs) in production mode against `database_url`."""
    return {
        **os.environ,
        "APLUS_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "FILE_KEYS": "bench:" + "A" * 43 + "=",
        "BASE_URL": "https://aplus.example.gouv.fr",
        "APLUS_VAR_DIR": "/tmp/aplus-bench-var",
        "PYTHONPATH": str(ROOT),
    }


def wrk(
    url: str,
    cookie: str | None,
    duration: int,
    connections: int,
    threads: int,
    headers: tuple[str, ...] = (),
) -> dict:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "report.lua"),
    ]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of the app")
    parser.add_argument(
        "--only",
        default="",
        help="measure only scenarios containing one of these (comma-separated)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install -y wrk")

    env = production_env(args.database_url)
    # The search tokens are sealed with the server's key.
    os.environ.update(env)
    info = asyncio.run(prepare(args.database_url))
    app_port, floor_port = args.port, args.port + 1
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "web",
                "--port",
                str(app_port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "bench.floor_app", str(floor_port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    results = {
        "label": args.label,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu": next(
                (
                    line.split(":", 1)[1].strip()
                    for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")
                ),
                "?",
            ),
        },
        "database": {
            "demandes": info["total"],
            "messages": info["answers"],
            "bench_user_scope": info["scope"],
        },
        "load": {
            "tool": "wrk",
            "connections": args.connections,
            "threads": args.threads,
            "seconds": args.duration,
        },
        "workers": args.workers,
        "scenarios": [],
    }
    try:
        base = f"http://127.0.0.1:{app_port}"
        wait_up(base + "/sante")
        wait_up(f"http://127.0.0.1:{floor_port}/")
        floor_url = f"http://127.0.0.1:{floor_port}/"
        wrk(floor_url, None, 2, args.connections, args.threads)
        results["floor"] = {
            "single": wrk(floor_url, None, args.duration, 1, 1),
            "loaded": wrk(floor_url, None, args.duration, args.connections, args.threads),
        }
        floor = results["floor"]["loaded"]
        print(f"{'':42} {'1 connection':>18} | {args.connections} connections")
        print(
            f"{'scenario':42} {'p50 ms':>8} {'p95 ms':>8} | {'p50 ms':>8} {'p95 ms':>8}"
            f" {'req/s':>8} {'× floor':>8}"
        )

        def line(name, single, loaded, ratio):
            print(
                f"{name:42} {single['p50_ms']:8.2f} {single['p95_ms']:8.2f} |"
                f" {loaded['p50_ms']:8.2f} {loaded['p95_ms']:8.2f} {loaded['rps']:8.0f}"
                f" {ratio:8.2f}  cpu {loaded.get('app_cpu_ms_per_request', 0):.2f} ms"
                f"  load {os.getloadavg()[0]:.1f}"
                + (f"  non-2xx {loaded['non_2xx']}" if loaded["non_2xx"] else "")
            )

        line("framework floor", results["floor"]["single"], floor, 1.0)
        app_pid = servers[0].pid
        for name, path in info["scenarios"]:
            if args.only and not any(w in name for w in args.only.split(",")):
                continue
            headers: tuple[str, ...] = ()
            if path.endswith("#etag"):
                path = path.removesuffix("#etag")
                # The ETag carries the minute (relative dates): start the three runs at the top
                # of a minute, or a run crossing it measures full pages, not revalidations.
                needed = 2 + 2 * args.duration + 3
                if needed < 60 and time.time() % 60 > 60 - needed:
                    time.sleep(60 - time.time() % 60 + 0.5)
                headers = (f"If-None-Match: {etag_of(base + path, info['cookie'])}",)
            status = status_of(base + path, info["cookie"])
            if status != 200:
                note = f"skipped: HTTP {status}" + (
                    " (route not on this branch yet)" if status == 404 else ""
                )
                print(f"{name:42} {note}")
                results["scenarios"].append({"name": name, "path": path, "skipped": note})
                continue
            # Warm up (connection pool, plan cache, shared buffers), then measure.
            wrk(base + path, info["cookie"], 2, args.connections, args.threads, headers)
            single = wrk(base + path, info["cookie"], args.duration, 1, 1, headers)
            cpu_before = cpu_seconds(app_pid)
            loaded = wrk(
                base + path, info["cookie"], args.duration, args.connections, args.threads, headers
            )
            loaded["app_cpu_ms_per_request"] = round(
                (cpu_seconds(app_pid) - cpu_before) * 1000 / max(loaded["requests"], 1), 3
            )
            ratio = loaded["rps"] / floor["rps"]
            cold = None
            if "inbox first page" in name and not headers or "search" in name:
                cold = cold_latency(base + path, info["cookie"], args.database_url, info["user_id"])
            results["scenarios"].append(
                {
                    "name": name,
                    "path": path,
                    # Other sessions share the machine: the 1-minute load average after it.
                    "load_average": os.getloadavg()[0],
                    "single": single,
                    "loaded": loaded,
                    "floor_ratio": ratio,
                    "cold_counts": cold,
                }
            )
            line(name, single, loaded, ratio)
            if cold:
                print(f"{'  (counts not cached)':42} {cold['p50_ms']:8.2f} {cold['p95_ms']:8.2f}")
        results["rss_mb"] = rss_mb(app_pid)
        print("resident memory (MB) of the app's processes:", results["rss_mb"])
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=10)
    out = ROOT / "bench" / f"results-{args.label}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()
