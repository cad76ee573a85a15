"""Benchmark of the statistics: aggregate refresh time, then page latency per filter.

    python bench/statistics_bench.py --database-url postgresql://postgres@127.0.0.1:5432/DB \
        --label 1M

Expects a database loaded by `aplus seed volume --demandes N`. Marks the volume's France
Services groups with the "France Services" network, adds the statistics viewers (national
observer, area manager CAF × 75, an observer of CAF and CPAM in 93 whose mixed scope is read
from the combinations of organisations × networks, an admin of 75 and 93; the bench
instructeur is made responsable of "CAF de Paris (volume)"; the bench aidant is in a France
Services group), times `aplus statistics refresh --full` and an incremental refresh after
2 000 recent demandes changed (unless --skip-refresh), starts `aplus web` (production
settings, one worker) and measures each scenario with one connection, requests one after
the other: p50/p95/max in milliseconds, client side, and the 1-minute load average.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from inbox_bench import wait_up

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = "volume.aplus.localhost"
VIEWERS = {
    "observer": [("observer", None, None)],
    "area_manager": [("area_manager", "caf", "75")],
    "mixed_observer": [("observer", "caf", "93"), ("observer", "cpam", "93")],
}


async def prepare(dsn: str) -> dict:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        await conn.execute(
            "UPDATE app_group SET network = 'France Services'"
            " WHERE organisation = 'france-services' AND name LIKE '%(volume)'"
        )
        ids = {}
        for key, scopes in VIEWERS.items():
            email = f"stats.{key}@{DOMAIN}"
            uid = await conn.fetchval("SELECT id FROM app_user WHERE email = $1", email)
            if uid is None:
                uid = uuid.uuid4()
                await conn.execute(
                    "INSERT INTO app_user (id, email, cgu_version, cgu_accepted_at, created_at)"
                    " SELECT $1, $2, cgu_version, $3, $3 FROM app_user"
                    " WHERE cgu_version IS NOT NULL LIMIT 1",
                    uid,
                    email,
                    now,
                )
                for role, org, area in scopes:
                    await conn.execute(
                        'INSERT INTO manager_scope (id, "user", role, organisation, area)'
                        " VALUES ($1, $2, $3, $4, $5)",
                        uuid.uuid4(),
                        uid,
                        role,
                        org,
                        area,
                    )
            ids[key] = uid
        email = f"stats.admin@{DOMAIN}"
        uid = await conn.fetchval("SELECT id FROM app_user WHERE email = $1", email)
        if uid is None:
            uid = uuid.uuid4()
            await conn.execute(
                "INSERT INTO app_user (id, email, is_admin, admin_areas, cgu_version,"
                " cgu_accepted_at, created_at) SELECT $1, $2, true, ARRAY['75','93'],"
                " cgu_version, $3, $3 FROM app_user WHERE cgu_version IS NOT NULL LIMIT 1",
                uid,
                email,
                now,
            )
        ids["admin"] = uid
        ids["responsable"] = await conn.fetchval(
            "SELECT id FROM app_user WHERE email = $1", f"bench.instructeur@{DOMAIN}"
        )
        await conn.execute(
            'UPDATE membership SET is_manager = true WHERE "user" = $1', ids["responsable"]
        )
        ids["aidant"] = await conn.fetchval(
            "SELECT id FROM app_user WHERE email = $1", f"bench.aidant@{DOMAIN}"
        )
        cookies = {}
        for key, user_id in ids.items():
            raw = secrets.token_urlsafe(32)
            await conn.execute(
                'INSERT INTO user_session (id, id_hash, "user", created_at, last_seen_at,'
                " expires_at, signature) VALUES (gen_random_uuid(), $1, $2, $3, $3, $4, '')",
                hashlib.sha256(raw.encode()).hexdigest(),
                user_id,
                now,
                now + timedelta(days=1),
            )
            cookies[key] = f"aplus_session={raw}"
        bench_group = await conn.fetchval(
            "SELECT id FROM app_group WHERE name = 'CAF de Paris (volume)'"
        )
        other_group = await conn.fetchval(
            "SELECT id FROM app_group WHERE name = 'CPAM 13 (volume)'"
        )
        total = await conn.fetchval("SELECT count(*) FROM application")
        return {
            "cookies": cookies,
            "bench_group": str(bench_group),
            "other_group": str(other_group),
            "demandes": total,
        }
    finally:
        await conn.close()


async def touch(dsn: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            # Real traffic changes recent demandes: the last month's, not a random sample
            # (which would touch every month and rebuild all the cells).
            "UPDATE application SET updated_at = now() WHERE id IN"
            " (SELECT id FROM application WHERE created_at > now() - interval '30 days'"
            " LIMIT $1)",
            count,
        )
    finally:
        await conn.close()


def timed_cli(args: list[str], env: dict) -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return time.monotonic() - started, result.stdout.strip()


def measure(port: int, path: str, cookie: str | None, n: int, warmup: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie} if cookie else {}
    times, status = [], None
    for i in range(warmup + n):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        status = response.status
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}")
        if i >= warmup:
            times.append(elapsed)
    conn.close()
    times.sort()
    return {
        "p50": round(statistics.median(times), 1),
        "p95": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max": round(times[-1], 1),
        "n": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--skip-refresh", action="store_true")
    args = parser.parse_args()

    info = asyncio.run(prepare(args.database_url))
    env = {
        **os.environ,
        "APLUS_ENV": "production",
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "FILE_KEYS": "bench:" + "A" * 43 + "=",
        "BASE_URL": "https://aplus.example.gouv.fr",
        "APLUS_VAR_DIR": "/tmp/aplus-bench-var",
        "PYTHONPATH": str(ROOT),
    }
    refresh = {}
    if not args.skip_refresh:
        seconds, out = timed_cli(["statistics", "refresh", "--full"], env)
        refresh["full"] = {"seconds": round(seconds, 1), "output": out}
        print(f"full refresh: {seconds:.1f} s ({out})", flush=True)
        asyncio.run(touch(args.database_url, 2000))
        seconds, out = timed_cli(["statistics", "refresh"], env)
        refresh["incremental_2000"] = {"seconds": round(seconds, 1), "output": out}
        print(f"incremental refresh: {seconds:.1f} s ({out})", flush=True)

    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "web", "--port", str(args.port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{args.port}/sante")
        g, other = info["bench_group"], info["other_group"]
        scenarios = [
            ("observer", "national, last 12 months", "/statistiques"),
            ("observer", "national, 36 months", "/statistiques?du=2023-12&au=2026-11"),
            ("observer", "département 75", "/statistiques?departement=75"),
            ("observer", "organisation CAF", "/statistiques?organisation=caf"),
            ("observer", "CAF × 75", "/statistiques?organisation=caf&departement=75"),
            ("observer", "group CAF de Paris (5 %)", f"/statistiques?groupe={g}"),
            ("observer", "group CPAM 13", f"/statistiques?groupe={other}"),
            ("observer", "network France Services", "/statistiques?reseau=France+Services"),
            ("observer", "network × 13", "/statistiques?reseau=France+Services&departement=13"),
            (
                "observer",
                "CPAM × network (combos)",
                "/statistiques?organisation=cpam&reseau=France+Services",
            ),
            (
                "observer",
                "CPAM × network, 36 months (combos)",
                "/statistiques?organisation=cpam&reseau=France+Services&du=2023-12&au=2026-11",
            ),
            (
                "observer",
                "CPAM × network × 75 (combos)",
                "/statistiques?organisation=cpam&reseau=France+Services&departement=75",
            ),
            (
                "observer",
                "group CPAM 13 × network (combos)",
                f"/statistiques?groupe={other}&reseau=France+Services",
            ),
            ("area_manager", "area manager CAF × 75", "/statistiques"),
            ("mixed_observer", "observer CAF+CPAM × 93 (combos)", "/statistiques"),
            ("mixed_observer", "observer CAF+CPAM × 93, CAF", "/statistiques?organisation=caf"),
            ("admin", "admin of 75 and 93", "/statistiques"),
            ("responsable", "responsable, CAF de Paris", "/statistiques"),
            ("aidant", "aidant, one France Services group", "/statistiques"),
            (
                "observer",
                "CSV by organisation, national",
                "/statistiques/export.csv?tableau=organisations",
            ),
            ("observer", "deployment view, national", "/statistiques/deploiement"),
            (None, "public page (cached)", "/statistiques/publiques"),
        ]
        results = []
        for who, name, path in scenarios:
            cookie = info["cookies"][who] if who else None
            r = measure(args.port, path, cookie, args.requests, warmup=3)
            r.update(scenario=name, path=path, load=round(os.getloadavg()[0], 1))
            results.append(r)
            print(
                f"{name:42} p50 {r['p50']:7.1f}  p95 {r['p95']:7.1f}  max {r['max']:7.1f}"
                f"  load {r['load']}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    out = {
        "label": args.label,
        "demandes": info["demandes"],
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, load {os.getloadavg()}",
        "refresh": refresh,
        "scenarios": results,
    }
    target = ROOT / "bench" / f"statistics-{args.label}.json"
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"saved {target}")


if __name__ == "__main__":
    main()
