"""Cost of the account rules of issue 9 (docs/decisions/2026-12-01-account-governance.md).

    python bench/accounts_bench.py --database-url postgresql://postgres@127.0.0.1:5432/DB

Times, on a database with many accounts, what the rules added: the admin users list
(`administered_users`), loading one account for an admin route (`AdministeredAccountById`),
the facts of a group's members (`account_facts`, one query for a block), and the former
`administered_users_sql` for comparison. Prints medians of 20 runs (ms) and the list's plan.
The data set of bench/RESULTS-accounts.md is built by bench/accounts_bench.sql.
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

# The rule replaced by `administered_users` (any shared département, orphans included).
FORMER_SQL = (
    "SELECT u.id, u.email FROM app_user u WHERE"
    " (NOT EXISTS (SELECT 1 FROM membership sm WHERE sm.user = u.id)"
    " OR EXISTS (SELECT 1 FROM membership sm JOIN app_group sg ON sg.id = sm.group"
    " WHERE sm.user = u.id AND sg.areas && {}::varchar[])) ORDER BY u.email LIMIT 51"
)


async def _median(label: str, make) -> None:
    times = []
    for _ in range(20):
        start = time.perf_counter()
        await make()
        times.append((time.perf_counter() - start) * 1000)
    print(f"| {label} | {statistics.median(times):.1f} | {max(times):.1f} |")


async def main(dsn: str) -> None:
    os.environ.setdefault("APLUS_VAR_DIR", "/tmp/aplus-bench-var")
    os.environ["DATABASE_URL"] = dsn
    from app import policies
    from app.domain import admin
    from app.domain.sessions import build_viewer
    from app.piccolo_conf import DB
    from app.settings import get_settings
    from app.tables import Group, Membership, User

    DB.config["dsn"] = dsn
    await DB.start_connection_pool(min_size=1, max_size=2)
    row = await User.select().where(User.email == "admin75@bench.fr").first()
    row["cgu_version"] = get_settings().cgu_version  # the guard lets only such viewers in
    viewer = await build_viewer(row)
    group = await Group.objects().where(Group.areas.any("75")).first()
    members = [
        r["user"]
        for r in await Membership.select(Membership.user).where(Membership.group == group.id)
    ]
    target = members[0]
    print(f"{await User.count()} accounts; a group of 75 with {len(members)} members\n")
    print("| operation | median ms | max ms |\n|---|---|---|")
    await _median(
        "admin users list, page 1 (`administered_users`)", lambda: admin.list_users(viewer)
    )
    await _median("admin users list, search 'u12'", lambda: admin.list_users(viewer, "u12"))
    await _median(
        "former `administered_users_sql`, page 1",
        lambda: User.raw(FORMER_SQL, sorted(viewer.admin_areas)),
    )
    ref = policies.AdministeredAccountById()
    await _median(
        "load one account for an admin route",
        lambda: ref.load(viewer, {"user_id": target}, {}),
    )
    with_usage = policies.AdministeredAccountById(with_usage=True)
    await _median(
        "the same with its usage (user page, deletion)",
        lambda: with_usage.load(viewer, {"user_id": target}, {}),
    )
    await _median(
        f"`account_facts` of the group's {len(members)} members",
        lambda: policies.account_facts(members),
    )
    query = User.select(User.id, User.email).where(policies.administered_users(viewer))
    sql, args = query.order_by(User.email).limit(51).querystrings[0].compile_string("postgres")
    async with DB.pool.acquire() as connection:
        plan = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
    print("\n```")
    print("\n".join(r["QUERY PLAN"] for r in plan))
    print("```")
    await DB.close_connection_pool()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    asyncio.run(main(parser.parse_args().database_url))
