"""The harness itself: the app answers, the database is migrated."""

from app.tables import Area


async def test_home_and_health(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert "Administration+" in response.text
    health = await client.get("/sante")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok"}


async def test_reference_data_loaded_by_migration(db):
    assert await Area.count() == 104
