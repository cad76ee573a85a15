"""Where the CPU of one inbox request goes, in-process (cProfile), per stage of the request.

    python bench/inbox_profile.py \
        --database-url postgresql://postgres@127.0.0.1:5432/aplus_bench_1m \
        [--path /demandes] [--requests 300] [--top 30]

Builds the production app (`create_app`) in this process and sends GET requests through
httpx's ASGI transport with the bench instructeur's session and a CSRF cookie, as
`bench/inbox_bench.py` does over HTTP. Prints CPU per request in total and the cumulative
share of each stage (middleware, session, guard, handler, database driver, Jinja). The
profiler inflates small calls: read the shares, and take absolute CPU from inbox_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (label, file suffix, function name): cumulative time of the outermost call of each.
STAGES = [
    ("whole request (ASGI app)", "litestar/app.py", "__call__"),
    ("check_input middleware (with all below it)", "app/requests.py", "middleware"),
    ("session middleware: load_session", "app/domain/sessions.py", "load_session"),
    ("CSRF middleware (with the handler and response)", "litestar/middleware/csrf.py", "__call__"),
    ("route guard enforce_route_policy", "app/auth.py", "enforce_route_policy"),
    ("security_headers (before_send)", "app/security.py", "security_headers"),
    ("handler inbox_page", "app/routes/inbox.py", "inbox_page"),
    ("ETag", "app/routes/inbox.py", "_etag"),
    ("inbox.load_page", "app/domain/inbox.py", "load_page"),
    ("counts (cache or query)", "app/domain/inbox_counts.py", "scope_counts"),
    ("list statement", "app/domain/inbox.py", "_list_rows"),
    ("rows shaped", "app/domain/inbox.py", "_row"),
    ("Piccolo run_querystring (all statements)", "piccolo/engine/postgres.py", "run_querystring"),
    ("Jinja render (template to HTML)", "jinja2/environment.py", "render"),
    (
        "response to ASGI (Template.to_asgi_response)",
        "litestar/response/template.py",
        "to_asgi_response",
    ),
]


async def run(dsn: str, path: str, requests: int, top: int = 0) -> None:
    import httpx

    sys.path.insert(0, str(ROOT / "bench"))
    from inbox_bench import prepare, production_env

    os.environ.update(production_env(dsn))
    info = await prepare(dsn)
    from app.main import create_app

    app = create_app()
    # The client's own log line per request is not the server's cost.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        client.headers["Cookie"] = info["cookie"]
        for _ in range(30):
            assert (await client.get(path)).status_code == 200
        cpu = time.process_time()
        for _ in range(requests):
            await client.get(path)
        plain = (time.process_time() - cpu) / requests
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(requests):
            await client.get(path)
        profile.disable()
    stats = pstats.Stats(profile).stats
    print(f"{path}: {plain * 1000:.2f} ms of CPU per request without the profiler (client incl.)")
    total = None
    for label, suffix, name in STAGES:
        cum = sum(
            v[3] for (file, _, func), v in stats.items() if file.endswith(suffix) and func == name
        )
        calls = sum(
            v[0] for (file, _, func), v in stats.items() if file.endswith(suffix) and func == name
        )
        total = total or cum
        per_request = cum / requests * 1000
        share = f"{cum / total:6.1%}"
        print(f"  {label:48} {per_request:7.2f} ms  {share}  ({calls / requests:.1f}/req)")
    if top:
        pstats.Stats(profile).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--path", default="/demandes")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.path, args.requests, args.top))


if __name__ == "__main__":
    main()
