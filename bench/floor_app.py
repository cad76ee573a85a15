"""The framework floor: a minimal Litestar HTML page, served exactly like the real app.

Same uvicorn options as `aplus web` (one worker, no access log, no proxy headers), same
framework, a fixed HTML page, no template, no database: whatever the inbox costs above
this is ours.
"""

from __future__ import annotations

import sys

from litestar import Litestar, get
from litestar.response import Response

PAGE = (
    "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Plancher</title></head>"
    "<body><main><h1>Plancher</h1>"
    + "".join(f"<p>Ligne {i}</p>" for i in range(25))
    + "</main></body></html>"
)


@get("/", sync_to_thread=False)
def floor() -> Response:
    return Response(PAGE, media_type="text/html")


app = Litestar(route_handlers=[floor], debug=False)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(
        "bench.floor_app:app",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=1,
        proxy_headers=False,
        log_level="info",
        access_log=False,
    )
