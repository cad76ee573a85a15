"""create_app(): routers, plugins, middleware, templates, startup and shutdown."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router

from app.auth import enforce_route_policy, session_middleware
from app.domain import business_days
from app.errors import EXCEPTION_HANDLERS
from app.jobs import queue
from app.piccolo_conf import DB
from app.requests import AplusRequest, check_input
from app.routes import (
    admin,
    applications,
    auth,
    canned_replies,
    dev,
    groups,
    inbox,
    pages,
    statistics,
)
from app.security import security_headers
from app.settings import get_settings
from app.templating import template_config

STATIC_DIR = Path(__file__).parent / "static"


async def _keep_session_state(connection) -> None:
    """No reset query on release: asyncpg's default (RESET ALL, UNLISTEN…) costs a round trip
    per statement, and the app never changes session state (no SET, LISTEN or session-level
    advisory lock; transaction-level ones end with their transaction); an open transaction is
    still rolled back by asyncpg itself."""


async def _open_pool() -> None:
    await DB.start_connection_pool(min_size=2, max_size=10, reset=_keep_session_state)


def _ready() -> None:
    """Last start-up step: the holiday rules loaded (~45 ms once), then everything built so
    far (modules, routes, templates) moved out of the garbage collector's reach: a full
    collection then walks only what requests create, 38 → ~20 ms at worst during the 50 k
    export (bench/RESULTS.md)."""
    business_days.warm()
    gc.freeze()


async def _close_pool() -> None:
    await DB.close_connection_pool()
    q = queue._queue
    if q is not None:
        await q.disconnect()
        queue.set_queue(None)


def create_app(*, with_pool: bool = True) -> Litestar:
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    route_handlers = [
        create_static_files_router(
            path="/static",
            directories=[STATIC_DIR],
            opt={"public": True},
            cache_control=CacheControlHeader(max_age=3600, public=True),
        ),
        pages.router,
        auth.router,
        groups.router,
        admin.router,
        applications.router,
        canned_replies.router,
        inbox.router,
        statistics.router,
    ]
    if settings.dev_pages_enabled:
        route_handlers.append(dev.router)
    return Litestar(
        route_handlers=route_handlers,
        template_config=template_config(),
        plugins=[HTMXPlugin()],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="aplus_csrf",
            cookie_secure=settings.uses_https,
            cookie_httponly=True,
            cookie_samesite="lax",
        ),
        middleware=[DefineMiddleware(check_input), DefineMiddleware(session_middleware)],
        request_class=AplusRequest,
        before_send=[security_headers],
        guards=[enforce_route_policy],
        exception_handlers=EXCEPTION_HANDLERS,
        # Without a pool (tests build an app per test) nothing is frozen: their garbage would
        # outlive them.
        on_startup=[_open_pool, _ready] if with_pool else [business_days.warm],
        on_shutdown=[_close_pool] if with_pool else [],
        openapi_config=None,
        debug=False,
    )
