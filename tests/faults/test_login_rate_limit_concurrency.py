"""The login rate limit holds under concurrent requests on separate connections.

These requests must commit (each one on its own pooled connection, as in production), so the
test cannot run inside the usual rolled-back transaction: it cleans what it wrote instead.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
from factories import make_user
from support.fixtures import CSRF_COOKIE

from app.domain import rate_limit
from app.settings import get_settings
from app.tables import AuditEvent, LoginToken, OutboxEmail, RateLimitHit, User


async def test_twelve_concurrent_requests_for_one_address_send_at_most_the_limit(
    app, migrated, job_queue
):
    email = f"concurrent-{uuid.uuid4().hex[:8]}@caf.fr"
    user = await make_user(email=email)
    keys = [rate_limit.limit_key("login-email", email)]
    try:
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=(f"192.0.2.{n}", 5000)),
                base_url="http://testserver",
            )
            for n in range(12)
        ]
        for n, client in enumerate(clients):
            await client.get("/connexion")
            keys.append(rate_limit.limit_key("login-address", f"192.0.2.{n}"))

        async def ask(client: httpx.AsyncClient) -> int:
            token = client.cookies[CSRF_COOKIE]
            response = await client.post("/connexion", data={"email": email, "_csrf_token": token})
            return response.status_code

        statuses = await asyncio.gather(*(ask(c) for c in clients))
        for client in clients:
            await client.aclose()

        limit = get_settings().login_rate_per_email
        links = await LoginToken.count().where(LoginToken.user == user.id)
        assert sorted(statuses) == [303] * limit + [429] * (12 - limit)
        assert links == limit
    finally:
        await LoginToken.delete().where(LoginToken.user == user.id)
        await AuditEvent.delete().where(AuditEvent.target_user_id == user.id)
        await OutboxEmail.delete().where(OutboxEmail.recipients.any(email))
        await RateLimitHit.delete().where(RateLimitHit.key.is_in(keys))
        await User.delete().where(User.id == user.id)
