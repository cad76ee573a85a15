"""The statistics refresh runs as a real SAQ job, on its schedule, and on demand."""

from factories import make_application, make_group, make_user

from app.domain import statistics
from app.jobs import statistics as statistics_jobs
from app.jobs import worker
from app.policies import StatisticsTerm
from app.tables import Application


async def test_the_worker_refreshes_the_aggregate(db, run_jobs):
    caf = await make_group("caf", ["75"])
    aidant = await make_user(helper_in=[await make_group("france-services", ["75"])])
    await make_application(by=aidant, to=[caf])
    await statistics_jobs.request_refresh(full=True)
    await run_jobs()
    assert await statistics.last_refresh() is not None
    first, last = statistics.default_months()
    fig = await statistics.figures(
        (StatisticsTerm(),), statistics.Filters(first, last), group_orgs={}
    )
    assert fig.totals.demandes == await Application.count()


def test_schedules_are_registered_with_the_worker():
    crons = {c.function.__name__: c.cron for c in worker.CRON_JOBS}
    assert crons["refresh_statistics"] == statistics_jobs.INCREMENTAL_CRON
    assert crons["refresh_statistics_full"] == statistics_jobs.FULL_CRON
    # The worker runs the recorded version of each cron job (its runs go to job_run).
    assert "refresh_statistics" in {f.__name__ for f in worker.FUNCTIONS}
