"""Each retention rule on both sides of its boundary, the test clock moving time."""

from __future__ import annotations

from datetime import timedelta

from factories import make_application, make_user

from app import clock, emails
from app.domain import applications, audit, files, login, rate_limit, sessions
from app.jobs import retention
from app.jobs.registry import _Sql, count_runs
from app.settings import get_settings
from app.tables import (
    Answer,
    Application,
    Attachment,
    AuditEvent,
    LoginToken,
    OutboxEmail,
    RateLimitHit,
    UserSession,
)

pytest_plugins = ["support.demandes"]

MINUTE = 60
DAY = 86400
PDF = b"%PDF-1.4 avis de situation"


def just_before(seconds: float) -> None:
    clock.travel(seconds - MINUTE)


def just_after() -> None:
    clock.travel(2 * MINUTE)


# --- files --------------------------------------------------------------------------------------


async def test_a_file_lives_15_days_then_loses_its_bytes_and_name_only(client, login, world):
    application = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    answer = await applications.post_answer(application.id, world.caf_agent, body="Voir pièce.")
    attachment = await files.store(
        files.check_file("Avis de situation.pdf", PDF),
        application_id=application.id,
        uploader_id=world.caf_agent.id,
        answer_id=answer.id,
    )
    url = f"/demandes/{application.id}/fichiers/{attachment.id}"
    texts_before = await Application.select(
        Application.subject, Application.description, Application.usager_last_name
    ).where(Application.id == application.id)
    clock.travel(14 * DAY)
    assert await retention.purge_files({}) == {"files": 0}
    await login(world.aidant)
    downloaded = await client.get(url)
    assert downloaded.status_code == 200 and downloaded.content == PDF

    just_before(1 * DAY)
    assert await retention.purge_files({}) == {"files": 0}
    just_after()
    assert await retention.purge_files({}) == {"files": 1}
    await login(world.aidant)

    row = await Attachment.select().where(Attachment.id == attachment.id).first()
    assert row["filename"] == "" and row["deleted_at"] is not None
    assert row["size"] == len(PDF) and row["content_type"] == "application/pdf"
    assert not files._path(attachment.id).exists()
    _, page = await client.page(f"/demandes/{application.id}")
    assert "Fichier supprimé le" in page.select_one("#fil").text
    assert "Avis de situation" not in page.text
    gone = await client.get(url)
    assert gone.status_code == 410
    assert "Fichier supprimé" in gone.text and "sans sauvegarde" in gone.text
    # The demande's texts are not the file's: they stay.
    assert (
        await Application.select(
            Application.subject, Application.description, Application.usager_last_name
        ).where(Application.id == application.id)
        == texts_before
    )
    assert (await Answer.select(Answer.body).where(Answer.id == answer.id))[0]["body"] == (
        "Voir pièce."
    )
    assert await retention.purge_files({}) == {"files": 0}


# --- purges -------------------------------------------------------------------------------------


async def test_login_links_go_a_day_after_they_expire(db, world):
    await login.send_link(world.aidant.id, world.aidant.email, None)
    link = LoginToken.user == world.aidant.id
    just_before(get_settings().login_link_minutes * MINUTE + DAY)
    await retention.purge_login_links({})
    assert await LoginToken.exists().where(link)
    just_after()
    assert (await retention.purge_login_links({}))["login_links"] >= 1
    assert not await LoginToken.exists().where(link)


async def test_sessions_go_once_idle_expired_or_revoked(db, world):
    await sessions.create_session(world.aidant.id)
    revoked = await sessions.create_session(world.caf_agent.id)
    await sessions.revoke_session(revoked)
    await retention.purge_sessions({})
    assert not await UserSession.exists().where(UserSession.user == world.caf_agent.id)
    just_before(get_settings().session_idle_days * DAY)
    await retention.purge_sessions({})
    assert await UserSession.exists().where(UserSession.user == world.aidant.id)
    just_after()
    await retention.purge_sessions({})
    assert not await UserSession.exists().where(UserSession.user == world.aidant.id)


async def test_rate_limit_rows_go_once_out_of_their_window(db):
    key = rate_limit.limit_key("email", "quelqu.un@exemple.fr")
    assert await rate_limit.allow(key, limit=5, window=timedelta(minutes=10))
    just_before(get_settings().login_rate_window_minutes * MINUTE)
    await retention.purge_rate_limits({})
    assert await RateLimitHit.exists().where(RateLimitHit.key == key)
    just_after()
    await retention.purge_rate_limits({})
    assert not await RateLimitHit.exists().where(RateLimitHit.key == key)


async def test_sent_mails_go_after_30_days_unsent_ones_never(db):
    await emails.welcome("envoye@exemple.gouv.fr")
    await emails.welcome("jamais.envoye@exemple.gouv.fr")
    await OutboxEmail.update({OutboxEmail.sent_at: clock.now()}).where(
        OutboxEmail.recipients.any("envoye@exemple.gouv.fr")
    )
    just_before(30 * DAY)
    await retention.purge_outbox({})
    assert await OutboxEmail.exists().where(OutboxEmail.recipients.any("envoye@exemple.gouv.fr"))
    just_after()
    await retention.purge_outbox({})
    assert not await OutboxEmail.exists().where(
        OutboxEmail.recipients.any("envoye@exemple.gouv.fr")
    )
    clock.travel(400 * DAY)
    await retention.purge_outbox({})
    assert await OutboxEmail.exists().where(
        OutboxEmail.recipients.any("jamais.envoye@exemple.gouv.fr")
    )


async def test_audit_events_go_after_events_retention_days(db, world):
    await audit.record(audit.Event.APPLICATION_OPENED, actor_id=world.aidant.id)
    mine = AuditEvent.actor_id == world.aidant.id
    just_before(get_settings().events_retention_days * DAY)
    await retention.purge_audit_events({})
    assert await AuditEvent.exists().where(mine)
    just_after()
    await retention.purge_audit_events({})
    assert not await AuditEvent.exists().where(mine)


async def _saq_row(key: str, status: str, expire_in: int) -> None:
    await _Sql.raw(
        "INSERT INTO saq_jobs (key, job, queue, status, expire_at)"
        " VALUES ({}, convert_to({}, 'UTF8'), 'aplus', {}, {})",
        key,
        "{}",
        status,
        int(clock.now().timestamp()) + expire_in,
    )


async def _saq_keys() -> set[str]:
    return {r["key"] for r in await _Sql.raw("SELECT key FROM saq_jobs WHERE key LIKE 'test:%'")}


async def test_finished_queue_jobs_go_when_they_expire_queued_ones_never(db):
    await _saq_row("test:done", "complete", 600)
    await _saq_row("test:failed", "failed", 600)
    await _saq_row("test:waiting", "queued", 600)
    just_before(600)
    await retention.purge_job_rows({})
    assert await _saq_keys() == {"test:done", "test:failed", "test:waiting"}
    just_after()
    await retention.purge_job_rows({})
    assert await _saq_keys() == {"test:waiting"}


async def test_job_runs_are_kept_90_days(db):
    # Runs recorded by other tests' workers carry their own (moved) clocks: start from none
    # (inside this test's transaction, rolled back after it).
    await _Sql.raw("DELETE FROM job_run WHERE name = 'purge_rate_limits'")
    await retention.purge_rate_limits({})
    runs = await count_runs("purge_rate_limits")
    just_before(retention.JOB_RUNS_DAYS * DAY)
    await retention.purge_job_rows({})
    assert await count_runs("purge_rate_limits") == runs
    just_after()
    await retention.purge_job_rows({})
    assert await count_runs("purge_rate_limits") == 0


async def test_personal_data_goes_90_days_after_archiving_not_before(db, world):
    application = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    clock.travel(200 * DAY)  # old demandes are wiped from their archiving, not their creation
    await applications.archive(application.id, world.aidant, "oui")
    just_before(get_settings().personal_data_retention_days * DAY)
    assert (await retention.wipe_personal_data({}))["demandes"] == 0
    assert (await retention.dry_run())[1] == ("demandes dont effacer les données personnelles", 0)
    just_after()
    [_, (label, waiting), *_] = await retention.dry_run()
    assert waiting >= 1
    await retention.wipe_personal_data({})
    row = await Application.select().where(Application.id == application.id).first()
    assert row["personal_data_wiped_at"] is not None and row["usager_last_name"] == ""


async def test_a_reopened_demande_is_not_wiped(db, world):
    application = await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
    await applications.archive(application.id, world.aidant, "oui")
    clock.travel(80 * DAY)
    await applications.reopen(application.id, world.aidant)
    clock.travel(20 * DAY)
    await retention.wipe_personal_data({})
    row = await Application.select().where(Application.id == application.id).first()
    assert row["personal_data_wiped_at"] is None and row["usager_last_name"] == "Dupont"


async def test_a_backlog_larger_than_a_batch_is_wiped_in_several_transactions(
    db, world, monkeypatch
):
    monkeypatch.setattr(retention, "BATCH", 2)
    created = [
        await make_application(by=world.aidant, to=[world.caf], from_group=world.fs)
        for _ in range(5)
    ]
    for application in created:
        await applications.archive(application.id, world.aidant, "oui")
    clock.travel(91 * DAY)
    await retention.wipe_personal_data({})
    wiped = await Application.count().where(
        Application.id.is_in([a.id for a in created])
        & Application.personal_data_wiped_at.is_not_null()
    )
    assert wiped == 5


async def test_purges_count_their_runs(db):
    await make_user()
    before = await count_runs("purge_sessions")
    await retention.purge_sessions({})
    assert await count_runs("purge_sessions") == before + 1
