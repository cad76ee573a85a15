"""Big groups: the group page and "Mes groupes" for a responsable of a 3 750-member group.

    python bench/groups_bench.py --database-url postgresql://postgres@127.0.0.1:5432/DB \
        [--members 3750] [--code ROOT]

Expects a migrated database (`aplus migrate`). Adds (once) a group of `--members` accounts
whose responsable has a session, starts `aplus web` from `--code` (default: this checkout;
pass an export of an older commit to measure "before") with production settings and one
worker, and measures, one connection, requests one after the other (3 warm-up, then 30):
p50/p95/max in milliseconds client side, and the size of the HTML.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import os
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
NAME = "Grand groupe (bench)"


async def prepare(dsn: str, members: int) -> dict:
    conn = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        group = await conn.fetchval("SELECT id FROM app_group WHERE name = $1", NAME)
        if group is None:
            group = uuid.uuid4()
            await conn.execute(
                "INSERT INTO app_group (id, name, organisation, areas)"
                " VALUES ($1, $2, 'caf', '{75}')",
                group,
                NAME,
            )
            await conn.execute(
                "INSERT INTO app_user (id, email, first_name, last_name, qualite, is_helper,"
                " cgu_version, cgu_accepted_at, created_at, last_seen_at)"
                " SELECT gen_random_uuid(), 'grand.' || n || '@bench.aplus.localhost',"
                " 'Prénom' || n, 'Nom' || lpad(n::text, 5, '0'), 'Conseiller', true,"
                " '2024-01', $1, $1, $1 FROM generate_series(1, $2) AS n",
                now,
                members,
            )
            await conn.execute(
                'INSERT INTO membership (id, "user", "group", is_manager, created_at)'
                " SELECT gen_random_uuid(), u.id, $1, u.email = 'grand.1@bench.aplus.localhost', $2"
                " FROM app_user u WHERE u.email LIKE 'grand.%@bench.aplus.localhost'",
                group,
                now,
            )
        boss = await conn.fetchval(
            "SELECT id FROM app_user WHERE email = 'grand.1@bench.aplus.localhost'"
        )
        raw = secrets.token_urlsafe(32)
        await conn.execute(
            'INSERT INTO user_session (id, id_hash, "user", created_at, last_seen_at,'
            " expires_at, signature) VALUES (gen_random_uuid(), $1, $2, $3, $3, $4, '')",
            hashlib.sha256(raw.encode()).hexdigest(),
            boss,
            now,
            now + timedelta(days=1),
        )
        return {"group": str(group), "cookie": f"aplus_session={raw}"}
    finally:
        await conn.close()


def measure(port: int, path: str, cookie: str, n: int, warmup: int = 3) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, size = [], 0
    for i in range(warmup + n):
        started = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie})
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"{path}: HTTP {response.status}")
        size = len(body)
        if i >= warmup:
            times.append(elapsed)
    conn.close()
    times.sort()
    return {
        "p50": round(statistics.median(times), 1),
        "p95": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
        "max": round(times[-1], 1),
        "bytes": size,
        "n": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--members", type=int, default=3750)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--code", default=str(ROOT))
    args = parser.parse_args()
    info = asyncio.run(prepare(args.database_url, args.members))
    env = {
        **os.environ,
        "APLUS_ENV": "production",
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "FILE_KEYS": "bench:" + "A" * 43 + "=",
        "BASE_URL": "https://aplus.example.gouv.fr",
        "APLUS_VAR_DIR": "/tmp/aplus-bench-var",
        "PYTHONPATH": args.code,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "web", "--port", str(args.port)],
        env=env,
        cwd=args.code,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{args.port}/sante")
        g = info["group"]
        results = {"load_average": os.getloadavg(), "members": args.members, "code": args.code}
        for name, path in [
            ("Mes groupes", "/groupes"),
            ("group page", f"/groupes/{g}"),
            ("group page, page 40 of members", f"/groupes/{g}?membres=40"),
        ]:
            results[name] = measure(args.port, path, info["cookie"], args.requests)
            print(name, results[name], flush=True)
        results["load_average_end"] = os.getloadavg()
        print(json.dumps(results))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
