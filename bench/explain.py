"""EXPLAIN (ANALYZE, BUFFERS) of the inbox's queries, exactly as the app builds them.

    python bench/explain.py --database-url postgresql://postgres@127.0.0.1:5432/aplus_bench_1m
        [--email bench.aidant@volume.aplus.localhost]

Runs `app.domain.inbox.load_page` for the bench instructeur, captures every statement
Piccolo sends, and prints each one's plan (Markdown, for bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCENARIOS = [
    ("first page (Nouvelles)", {}),
    ("tab Archivées", {"tab_key": "archivees"}),
    ("tab En souffrance", {"tab_key": "en-souffrance"}),
    ("search a first name alone", {"query": "elodie"}),
    ("search usager full name (narrow)", {"query": "elodie dupont"}),
    ("search common word", {"query": "attestation"}),
    ("search a word only in private answers", {"query": "contentieux"}),
]


async def main(dsn: str, email: str) -> None:
    os.environ.setdefault("APLUS_VAR_DIR", "/tmp/aplus-bench-var")
    os.environ["DATABASE_URL"] = dsn
    import asyncpg
    from piccolo.engine.postgres import PostgresEngine

    from app.domain import inbox, sessions
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
            captured.clear()
            await inbox.load_page(viewer, **kwargs)
            await inbox.load_page(viewer, **kwargs)  # warm
            statements = captured[len(captured) // 2 :]
            print(f"\n### {title}\n")
            for sql, args in statements:
                if sql.startswith("EXPLAIN"):
                    print(f"(search plan choice: `{sql[:90]}…`)\n")
                    continue
                plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
                print("```")
                print(sql if len(sql) < 600 else sql[:600] + " …")
                print()
                print("\n".join(r[0] for r in plan))
                print("```")
    finally:
        await conn.close()
        await DB.close_connection_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    # The bench aidant (bench.aidant@volume.aplus.localhost) shows the creator's side.
    parser.add_argument("--email", default="bench.instructeur@volume.aplus.localhost")
    args = parser.parse_args()
    asyncio.run(main(args.database_url, args.email))
