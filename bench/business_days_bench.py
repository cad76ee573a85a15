"""CPU cost of business hours in the export's délais and the statistics facts, before/after.

    .venv/bin/python bench/business_days_bench.py [--rows 50000] [--facts 200000]

No database: rows shaped like the export query's and the statistics source query's are drawn
with a fixed seed (creation over the last three years, first answers within weeks,
resolutions within months, départements weighted like the volume loader's mix incl.
Alsace-Moselle and overseas). Each pass runs the app's own code (`state.delay_tenths`, what
a change of thread stores for the export; `statistics.fact_of`) once with the
business-day module as it was before the cumulative calendar (read from git at `--before`,
default 972cdf0: day-walking `business_hours_between` and `add_business_days`) and once with
the current one. Reports CPU seconds (process time).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.domain import business_days, statistics  # noqa: E402
from app.domain.applications import state  # noqa: E402

AREAS = ["75"] * 30 + ["93"] * 15 + ["13"] * 10 + ["69"] * 10 + ["57", "67", "68"] * 3
AREAS += ["971", "972", "974", "976", "2A"] * 2
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def draw_rows(n: int) -> list[dict]:
    rnd = random.Random(16)
    rows = []
    for i in range(n):
        created = NOW - timedelta(seconds=rnd.randrange(3 * 365 * 86400))
        first = (
            created + timedelta(seconds=rnd.randrange(20 * 86400)) if rnd.random() < 0.8 else None
        )
        processed = (
            created + timedelta(seconds=rnd.randrange(120 * 86400)) if rnd.random() < 0.6 else None
        )
        archived = (
            (processed or created) + timedelta(days=rnd.randrange(60))
            if rnd.random() < 0.3
            else None
        )
        rows.append(
            {
                "id": uuid.UUID(int=i + 1),
                "status": rnd.choice(["new", "in_progress", "processed", "archived"]),
                "created_at": created,
                "archived_at": archived,
                "first_answer_at": first and min(first, NOW),
                "processed_at": processed and min(processed, NOW),
                "area": rnd.choice(AREAS),
                "usefulness": rnd.choice([None, "oui", "non"]),
                "is_irrelevant": rnd.random() < 0.05,
                "groups": "CAF de Paris | CPAM 93",
                # statistics source columns
                "first_processed_at": processed and min(processed, NOW),
                "first_archived_at": archived and min(archived, NOW),
                "late_at": None,
            }
        )
    return rows


def delays_pass(rows: list[dict]) -> dict:
    """The export's délais as the write path computes them (`state.delay_tenths`, once per
    change of a thread; the export itself only reads them, bench/export_lag.py)."""
    started = time.process_time()
    for r in rows:
        state.delay_tenths(
            r["created_at"], r["first_answer_at"], r["processed_at"] or r["archived_at"], r["area"]
        )
    return {"cpu_s": round(time.process_time() - started, 3)}


def facts_pass(rows: list[dict]) -> dict:
    started = time.process_time()
    for r in rows:
        row = dict(r, groups=[])
        statistics.fact_of(row, {}, NOW)
    return {"cpu_s": round(time.process_time() - started, 3)}


def old_module(commit: str):
    source = subprocess.run(
        ["git", "show", f"{commit}:app/domain/business_days.py"],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path("/tmp") / f"business_days_{commit}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"business_days_{commit}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_impl(old, fn, *args):
    saved = (
        business_days.business_hours_between,
        business_days.business_hours_since,
        business_days.add_business_days,
    )
    business_days.business_hours_between = old.business_hours_between
    business_days.business_hours_since = lambda start, ends, area: [
        None if end is None else old.business_hours_between(start, end, area) for end in ends
    ]
    business_days.add_business_days = old.add_business_days
    try:
        return fn(*args)
    finally:
        (
            business_days.business_hours_between,
            business_days.business_hours_since,
            business_days.add_business_days,
        ) = saved


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--facts", type=int, default=200_000)
    parser.add_argument("--before", default="972cdf0")
    args = parser.parse_args()
    export_rows = draw_rows(args.rows)
    fact_rows = draw_rows(args.facts)
    walked = old_module(args.before)
    # Warm the holiday and calendar caches so both passes measure steady state.
    with_impl(walked, delays_pass, export_rows[:2000])
    delays_pass(export_rows[:2000])
    result = {
        "load_average": os.getloadavg(),
        "export_rows": args.rows,
        "delays_before": with_impl(walked, delays_pass, export_rows),
        "delays_after": delays_pass(export_rows),
        "fact_rows": args.facts,
        "facts_before": with_impl(walked, facts_pass, fact_rows),
        "facts_after": facts_pass(fact_rows),
        "load_average_end": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
