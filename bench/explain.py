"""EXPLAIN (ANALYZE, BUFFERS) of the inbox's queries, exactly as the app builds them.

    python bench/explain.py --database-url postgresql://postgres@127.0.0.1:5432/aplus_bench_1m
        [--email bench.aidant@volume.aplus.localhost] [--only souffrance,search] [--repeat 20]

Runs `app.domain.inbox.load_page` for the bench instructeur twice per scenario, with an inbox
version as the web app passes it: the first call computes the counts (a new search, or the
first page after any change), the second reads them from the cache (the same search again,
another tab, the next page). Captures every statement Piccolo sends and prints each one's
plan (Markdown, for bench/RESULTS.md) and the median of `--repeat` plain executions (no
EXPLAIN overhead), in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCENARIOS = [
    ("first page (Nouvelles)", {}),
    ("tab Archivées", {"tab_key": "archivees"}),
    ("tab En souffrance", {"tab_key": "en-souffrance"}),
    ("search a first name alone", {"query": "elodie"}),
    ("search usager full name (narrow)", {"query": "elodie dupont"}),
    ("search usager full name (42 matches at 1 M)", {"query": "elodie geres"}),
    ("search common word", {"query": "attestation"}),
    ("search a word only in private answers", {"query": "contentieux"}),
]


async def main(dsn: str, email: str, only: list[str], repeat: int) -> None:
    os.environ.setdefault("APLUS_VAR_DIR", "/tmp/aplus-bench-var")
    os.environ["DATABASE_URL"] = dsn
    import asyncpg
    from piccolo.engine.postgres import PostgresEngine

    from app.domain import inbox, inbox_counts, sessions
    from app.piccolo_conf import DB
    from app.tables import User

    DB.config["dsn"] = dsn
    await DB.start_connection_pool(min_size=1, max_size=2)
    captured: list[tuple[str, list]] = []
    original = PostgresEngine.run_querystring

    async def capture(engine, querystring, in_pool=True):
        captured.append(querystring.compile_string(engine_type="postgres"))
        return await original(engine, querystring, in_pool=in_pool)

    PostgresEngine.run_querystring = capture
    user = await User.select().where(User.email == email)
    viewer = await sessions.build_viewer(user[0])
    conn = await asyncpg.connect(dsn)
    try:
        for title, kwargs in SCENARIOS:
            if only and not any(w in title for w in only):
                continue
            inbox_counts.clear_cache()
            for call in ("counts computed", "counts cached"):
                captured.clear()
                await inbox.load_page(viewer, version=0, **kwargs)
                print(f"\n### {title}: {call}\n")
                await _explain(conn, list(captured), repeat)
    finally:
        await conn.close()
        await DB.close_connection_pool()


async def _explain(conn, statements: list[tuple[str, list]], repeat: int) -> None:
    for sql, args in statements:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            await conn.fetch(sql, *args)
            times.append((time.perf_counter() - started) * 1000)
        median = f"median of {repeat} runs: {statistics.median(times):.2f} ms"
        if sql.startswith("EXPLAIN"):
            print(f"(search plan choice, {median}: `{sql[:90]}…`)\n")
            continue
        plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
        print("```")
        print(sql if len(sql) < 600 else sql[:600] + " …")
        print(f"\n{median}\n")
        print("\n".join(r[0] for r in plan))
        print("```")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    # The bench aidant (bench.aidant@volume.aplus.localhost) shows the creator's side.
    parser.add_argument("--email", default="bench.instructeur@volume.aplus.localhost")
    parser.add_argument("--only", default="", help="scenarios containing one of these (a,b)")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    only = [w for w in args.only.split(",") if w]
    asyncio.run(main(args.database_url, args.email, only, args.repeat))
