"""The home page, the legal pages every public service links from its footer, the health check."""

from litestar import Request, Response, Router, get
from litestar.response import Template

from app.auth import CguRequired
from app.piccolo_conf import DB
from app.policies import public
from app.templating import render


@get("/", opt=public())
async def home(request: Request) -> Template:
    viewer = request.scope["state"].get("viewer")
    if viewer is not None and not viewer.has_accepted_cgu:
        # Public, but a logged-in user's first stop is still the CGU.
        raise CguRequired()
    return render(request, "pages/home.html")


# The legal pages are public: the accessibility statement must be reachable without an account.
LEGAL_PAGES = {
    "/accessibilite": ("pages/accessibilite.html", "Déclaration d'accessibilité"),
    "/mentions-legales": ("pages/mentions_legales.html", "Mentions légales"),
    "/donnees-personnelles": ("pages/donnees_personnelles.html", "Données personnelles"),
}


@get(list(LEGAL_PAGES), opt=public())
async def legal_page(request: Request) -> Template:
    template, title = LEGAL_PAGES[request.url.path]
    return render(request, template, {"title": title})


@get("/sante", opt=public(), cache_control=None)
async def health() -> Response:
    """200 with the database status, 503 when the database does not answer."""
    try:
        await DB.run_querystring(_select_one())
        return Response({"status": "ok", "database": "ok"}, status_code=200)
    except Exception:
        return Response({"status": "error", "database": "unreachable"}, status_code=503)


def _select_one():
    from piccolo.querystring import QueryString

    return QueryString("SELECT 1")


router = Router(path="", route_handlers=[home, legal_page, health])
