"""/dev/mails holds login links: served only with the local catcher as the transport, and
only to clients on this machine."""

from email.message import EmailMessage

import httpx
import pytest

from app.settings import get_settings

LOOPBACK = ("127.0.0.1", 40000)
REMOTE = ("203.0.113.7", 40000)


@pytest.fixture
def make_app(monkeypatch, tmp_path):
    """An app built under the given environment (settings are read once, then cached)."""
    mails = tmp_path / "mails"
    mails.mkdir()
    message = EmailMessage()
    message["To"] = "alice@caf.fr"
    message["Subject"] = "[A+] Votre lien de connexion"
    message.set_content("http://localhost:8000/connexion/lien/secret-token")
    (mails / "1.eml").write_bytes(message.as_bytes())

    def make(**env: str):
        monkeypatch.setenv("DEV_MAIL_DIR", str(mails))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        from app.main import create_app

        return create_app(with_pool=False)

    yield make
    monkeypatch.undo()
    get_settings.cache_clear()


async def _get(app, path: str, client=LOOPBACK, headers=None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as c:
        return await c.get(path, headers=headers)


CATCHER = {"APLUS_ENV": "development", "SMTP_URL": "", "DEV_MAIL_PORT": "2525"}


async def test_served_to_loopback_when_the_catcher_is_the_transport(make_app):
    app = make_app(**CATCHER)
    assert get_settings().smtp_url == "smtp://127.0.0.1:2525"
    response = await _get(app, "/dev/mails.json")
    assert response.status_code == 200
    assert "secret-token" in response.text
    assert (await _get(app, "/dev/mails")).status_code == 200
    assert (await _get(app, "/dev/mails/apercu/login_link")).status_code == 200


@pytest.mark.parametrize("path", ["/dev/mails", "/dev/mails.json", "/dev/mails/apercu/welcome"])
async def test_refused_to_other_clients_and_through_a_proxy(make_app, path):
    app = make_app(**CATCHER)
    response = await _get(app, path, client=REMOTE)
    assert response.status_code == 404
    assert "secret-token" not in response.text
    proxied = await _get(app, path, headers={"X-Forwarded-For": "198.51.100.4"})
    assert proxied.status_code == 404


@pytest.mark.parametrize(
    "env",
    [
        # `aplus web` in development with a real SMTP server: mails really go out.
        {"APLUS_ENV": "development", "SMTP_URL": "smtp://relay.example:25", "DEV_MAIL_PORT": ""},
        # Development without the catcher of `aplus run`.
        {"APLUS_ENV": "development", "SMTP_URL": "", "DEV_MAIL_PORT": ""},
        # Only development ever uses the catcher.
        {"APLUS_ENV": "test", "SMTP_URL": "", "DEV_MAIL_PORT": "2525"},
    ],
)
async def test_absent_unless_the_catcher_is_the_transport(make_app, env):
    app = make_app(**env)
    response = await _get(app, "/dev/mails.json")
    assert response.status_code == 404
    assert "secret-token" not in response.text
