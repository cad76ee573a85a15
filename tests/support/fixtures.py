"""Client-side fixtures: the ASGI app and clients, logged in or not."""

from __future__ import annotations

import httpx
import pytest
from bs4 import BeautifulSoup

CSRF_COOKIE = "aplus_csrf"


class Client(httpx.AsyncClient):
    """An httpx client on the ASGI app that knows how to post forms with the CSRF token."""

    async def csrf_token(self) -> str:
        if CSRF_COOKIE not in self.cookies:
            await self.get("/")
        return self.cookies[CSRF_COOKIE]

    async def post_form(self, url: str, data: dict | list | None = None, **kwargs):
        token = await self.csrf_token()
        if isinstance(data, list):
            fields = [*data, ("_csrf_token", token)]
        else:
            fields = {**(data or {}), "_csrf_token": token}
        return await self.post(url, data=fields, **kwargs)

    async def page(self, url: str, **kwargs) -> tuple[httpx.Response, BeautifulSoup]:
        response = await self.get(url, **kwargs)
        return response, BeautifulSoup(response.text, "html.parser")


@pytest.fixture(scope="session")
def app():
    from app.main import create_app

    return create_app(with_pool=False)


@pytest.fixture
async def client(app, db):
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def login(client):
    """Log `client` in as a user, through a real server-side session."""
    from app.domain import sessions

    async def log_in(user) -> Client:
        raw = await sessions.create_session(user.id)
        client.cookies.set(sessions.SESSION_COOKIE, raw, domain="testserver.local")
        return client

    return log_in
