"""`/statistiques`: scoped dashboards, their CSV, the public page and the deployment view.

Filters travel in the query string of a plain GET form (shareable URLs; htmx only swaps the
figures). They are read against the viewer's scope from `policies.statistics_scope`: a value
outside it is a 403 (audited), and the figures are always the scope intersected with them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.params import FromQuery
from litestar.response import Template

from app import charts, formatting, policies
from app.domain import reference, statistics
from app.domain import statistics_views as views
from app.jobs import statistics as statistics_jobs
from app.policies import (
    can_refresh_statistics,
    can_see_deployment,
    can_see_statistics,
    policy,
    public,
)
from app.routes.common import current_viewer, refused
from app.templating import redirect, render

TABLES = ("mois", "synthese", "organisations", "groupes")


def _query(values: dict[str, str]) -> str:
    return urlencode({k: v for k, v in values.items() if v})


def _charts(fig: statistics.Figures, ident: str, scope_label: str) -> dict:
    months = [
        charts.Bar(formatting.month_fr(m).replace(" 20", " "), t.demandes, str(t.demandes))
        for m, t in fig.months
    ]
    peak = max(fig.months, key=lambda mt: mt[1].demandes, default=None)
    t = fig.totals
    per_month = charts.columns(
        f"{ident}-mois",
        f"Demandes créées par mois, {scope_label}",
        f"{t.demandes} demandes de {formatting.month_fr(fig.first_month)} à "
        f"{formatting.month_fr(fig.last_month)}"
        + (
            f" ; le plus haut : {peak[1].demandes} en {formatting.month_fr(peak[0])}."
            if peak and peak[1].demandes
            else "."
        )
        + " Le tableau qui suit donne chaque mois.",
        months,
    )
    share_bars = [
        charts.Bar(
            "Résolues en moins de 7 jours",
            t.under_7_share or 0,
            formatting.percent(t.under_7_share),
        ),
        charts.Bar(
            "Prises en charge en 3 jours ouvrés",
            t.in_charge_share or 0,
            formatting.percent(t.in_charge_share),
        ),
        charts.Bar(
            "Procédure standard", t.irrelevant_share or 0, formatting.percent(t.irrelevant_share)
        ),
    ]
    useful_bars = [
        charts.Bar(
            f"Utile : {label}", t.useful_share(code) or 0, formatting.percent(t.useful_share(code))
        )
        for code, label in statistics.USEFULNESS
    ]
    return {
        "per_month": per_month,
        "shares": charts.shares(
            f"{ident}-parts",
            f"Parts des demandes, {scope_label}",
            "; ".join(f"{b.label} : {b.value_label}" for b in share_bars) + ".",
            share_bars,
        ),
        "share_bars": share_bars,
        "usefulness": charts.shares(
            f"{ident}-utilite",
            f"Réponses des aidants à « Cette aide a-t-elle été utile ? », {scope_label}",
            f"{t.useful_answers} réponses. "
            + "; ".join(f"{b.label} : {b.value_label}" for b in useful_bars)
            + ".",
            useful_bars,
        ),
        "useful_bars": useful_bars,
    }


async def _dashboard(request: Request, *, every_area: bool = False) -> tuple[dict, int]:
    viewer = current_viewer(request)
    options = await views.load_options(policies.statistics_scope(viewer))
    params = {k: v for k, v in request.query_params.items()}
    try:
        filters, values, errors = views.parse_filters(params, options)
    except views.OutOfScope:
        raise await refused(request) from None
    context = {
        "title": "Statistiques",
        "options": options,
        "values": values,
        "errors": errors,
        "filters": filters,
        "group_choices": options.group_choices(filters),
        "area_label": views.area_label,
        "organisation_label": views.organisation_label,
        "page_header": views.PAGE_HEADER,
        "page_values": views.page_values,
        "area_header": views.AREA_PAGE_HEADER,
        "area_values": views.area_page_values,
        "query": _query(values),
        "refreshed_at": await statistics.last_refresh(),
        "datetime_fr": formatting.datetime_fr,
    }
    if filters is None:
        return context, 400
    fig = await statistics.figures(
        options.terms,
        filters,
        group_orgs=options.group_orgs,
        group_names=options.group_names,
        every_area=every_area,
    )
    context.update(
        fig=fig,
        months=views.month_rows(fig.months),
        by_organisation=views.organisation_rows(fig.by_organisation),
        group_rows=[(list(r.labels), r.totals) for r in fig.by_group],
        charts=_charts(fig, "stats", "dans votre périmètre"),
    )
    return context, 200


@get("/statistiques", opt=policy(can_see_statistics))
async def statistics_page(request: Request) -> Template:
    context, status = await _dashboard(request)
    return render(
        request,
        "statistics/page.html",
        context,
        fragment="statistics/_results.html",
        status_code=status,
    )


def _csv_response(name: str, body: str) -> Response:
    return Response(
        body,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _table_csv(first_header: tuple[str, ...], rows) -> str:
    return statistics.to_csv(
        [*first_header, *views.FIGURE_HEADER],
        ([*labels, *views.figure_values(t)] for labels, t in rows),
    )


def _summary_csv(fig: statistics.Figures) -> str:
    """The key figures, shares and usefulness of the period: one line."""
    return statistics.to_csv(
        ["Du mois", "Au mois", *views.FIGURE_HEADER, "En souffrance en ce moment"],
        [
            [
                fig.first_month.strftime("%Y-%m"),
                fig.last_month.strftime("%Y-%m"),
                *views.figure_values(fig.totals),
                fig.late_now,
            ]
        ],
    )


@get("/statistiques/export.csv", opt=policy(can_see_statistics))
async def statistics_csv(request: Request, tableau: FromQuery[str] = "mois") -> Response:
    if tableau not in TABLES:
        tableau = "mois"
    context, status = await _dashboard(request, every_area=tableau == "organisations")
    if status != 200:
        return render(request, "statistics/page.html", context, status_code=status)
    if tableau == "mois":
        body = _table_csv(("Mois", "Code mois"), context["months"])
    elif tableau == "synthese":
        body = _summary_csv(context["fig"])
    elif tableau == "organisations":
        body = _table_csv(
            ("Organisme", "Département", "Code organisme", "Code département"),
            context["by_organisation"],
        )
    else:
        body = _table_csv(("Groupe",), context["group_rows"])
    return _csv_response(f"statistiques-{tableau}", body)


@post("/statistiques/rafraichir", opt=policy(can_refresh_statistics))
async def statistics_refresh(request: Request) -> Response:
    """On demand, besides the schedule: the worker recomputes the changed demandes."""
    await statistics_jobs.request_refresh()
    return redirect(
        "/statistiques",
        "Le recalcul des statistiques est lancé ; les chiffres seront à jour dans quelques"
        " minutes.",
        level="info",
    )


# --- public page ---------------------------------------------------------------------------


async def _public_context() -> dict:
    first, last = statistics.default_months()
    filters = statistics.Filters(first_month=first, last_month=last)
    fig, area_rows = await statistics.public_figures(filters)
    return {
        "title": "Statistiques publiques",
        "fig": fig,
        "months": views.month_rows(fig.months),
        "by_area": [([views.area_label(r.labels[0]), r.labels[0]], r.totals) for r in area_rows],
        "charts": _charts(fig, "publiques", "en France"),
        "area_header": views.AREA_PAGE_HEADER,
        "area_values": views.area_page_values,
    }


@get("/statistiques/publiques", opt=public(), cache_control=None)
async def public_page(request: Request) -> Template:
    response = render(request, "statistics/public.html", await _public_context())
    return response


@get("/statistiques/publiques/export.csv", opt=public())
async def public_csv(request: Request, tableau: FromQuery[str] = "mois") -> Response:
    context = await _public_context()
    if tableau == "departements":
        body = _table_csv(("Département", "Code département"), context["by_area"])
        return _csv_response("statistiques-publiques-departements", body)
    if tableau == "synthese":
        return _csv_response("statistiques-publiques-synthese", _summary_csv(context["fig"]))
    body = _table_csv(("Mois", "Code mois"), context["months"])
    return _csv_response("statistiques-publiques-mois", body)


# --- deployment ----------------------------------------------------------------------------


async def _deployment_context(request: Request, organisation: str) -> dict:
    viewer = current_viewer(request)
    terms = policies.deployment_scope(viewer)
    rows = await statistics.deployment(terms)
    if any(t.areas is None for t in terms):
        areas = [d.code for d in reference.DEPARTEMENTS]
    else:
        areas = sorted({a for t in terms for a in t.areas})
    orgs = [o.code for o in reference.PARTNER_ORGANISATIONS]
    if all(t.organisation for t in terms):
        orgs = [o for o in orgs if any(t.organisation == o for t in terms)]
    if organisation and organisation not in orgs:
        raise await refused(request) from None
    counts: dict[str, dict[str, int]] = {}
    for r in rows:
        counts.setdefault(r["organisation"], {})[r["area"]] = r["instructeurs"]
    summary = []
    for org in orgs:
        covered = counts.get(org, {})
        in_scope = [a for a in areas if covered.get(a)]
        summary.append(
            {
                "code": org,
                "label": views.organisation_label(org),
                "instructeurs": sum(covered.get(a, 0) for a in areas),
                "covered": len(in_scope),
                "missing": [a for a in areas if not covered.get(a)],
            }
        )
    return {
        "title": "Déploiement",
        "summary": summary,
        "areas": areas,
        "organisation": organisation,
        "detail": next((s for s in summary if s["code"] == organisation), None),
        "counts": counts,
        "area_label": views.area_label,
    }


@get("/statistiques/deploiement", opt=policy(can_see_deployment))
async def deployment_page(request: Request, organisation: FromQuery[str] = "") -> Template:
    context = await _deployment_context(request, organisation.strip())
    return render(request, "statistics/deployment.html", context)


@get("/statistiques/deploiement/export.csv", opt=policy(can_see_deployment))
async def deployment_csv(request: Request) -> Response:
    context = await _deployment_context(request, "")
    rows = [
        [
            s["label"],
            views.area_label(a),
            s["code"],
            a,
            context["counts"].get(s["code"], {}).get(a, 0),
        ]
        for s in context["summary"]
        for a in context["areas"]
    ]
    body = statistics.to_csv(
        ["Organisme", "Département", "Code organisme", "Code département", "Instructeurs actifs"],
        rows,
    )
    return _csv_response("deploiement", body)


router = Router(
    path="",
    route_handlers=[
        statistics_page,
        statistics_csv,
        statistics_refresh,
        public_page,
        public_csv,
        deployment_page,
        deployment_csv,
    ],
)
