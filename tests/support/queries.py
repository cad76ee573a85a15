"""Counting the SQL statements a request sends (the no-N+1 tests of the inbox and demande pages)."""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine


class QueryCounter:
    """Counts every statement Piccolo sends (the engine is the one door to the database)."""

    def __init__(self, monkeypatch):
        self.count = 0
        original = PostgresEngine.run_querystring

        async def counting(engine, querystring, in_pool=True):
            self.count += 1
            return await original(engine, querystring, in_pool=in_pool)

        monkeypatch.setattr(PostgresEngine, "run_querystring", counting)
