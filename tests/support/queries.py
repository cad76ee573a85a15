"""Counting the SQL statements a request sends (the no-N+1 tests of the inbox and demande pages)."""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine


class QueryCounter:
    """Counts every statement Piccolo sends (the engine is the one door to the database), and
    keeps their SQL (`statements`) for tests about what a request asks."""

    def __init__(self, monkeypatch):
        self.count = 0
        self.statements: list[str] = []
        original = PostgresEngine.run_querystring

        async def counting(engine, querystring, in_pool=True):
            self.count += 1
            self.statements.append(querystring.compile_string(engine_type="postgres")[0])
            return await original(engine, querystring, in_pool=in_pool)

        monkeypatch.setattr(PostgresEngine, "run_querystring", counting)
