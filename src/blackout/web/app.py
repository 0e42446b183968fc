"""The web API (FastAPI, OpenAPI at ``/docs``) and the static map page.

The server computes cascades; the browser animates the frames it returns. Nothing is
fetched from outside: the page's scripts are ours (``static/``), MapLibre GL JS is
served from the installed ``maplibre`` Python package and ``/docs`` (Swagger UI) from
the ``fastapi-offline`` package's copy.

Endpoints
---------
GET  /api/cases                         built-in cases
GET  /api/cases/{case}/geometry         the case as GeoJSON (regions, buses, branches, gens)
GET  /api/scenarios                     built-in scenarios
POST /api/runs                          trip elements of a case; 202 with a job id
POST /api/scenarios/{name}/runs         run a built-in scenario; 202 with a job id
GET  /api/runs/{id}                     status; the timeline as frames when done
GET  /api/runs/{id}/report              the run's self-contained HTML report

Bounds: request bodies at most ``MAX_BODY_BYTES`` (64 KiB) counted on the bytes
received, chunked or not (413); at most ``max_pending`` runs and report renderings
in flight (429); each run's report rendered once and kept with the run. Every error
is JSON ``{"error", "status"}``; a 405 carries ``Allow``.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from blackout.errors import BlackoutError, UnknownElementError
from blackout.web.assets import maplibre_asset
from blackout.web.body_limit import BodyLimitMiddleware
from blackout.web.jobs import BusyError, JobStore
from blackout.web.models import MAX_BODY_BYTES, ErrorBody, RunRequest, ScenarioRunRequest

if TYPE_CHECKING:
    from blackout.grid.model import Grid


__all__ = ["create_app", "STATIC_DIR", "MAX_MAP_BUSES"]

STATIC_DIR = Path(__file__).parent / "static"
#: Swagger UI's files served at /vendor/swagger/ (from the fastapi-offline package)
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")
#: largest case (buses) the map page serves
MAX_MAP_BUSES = 3000


def _error(status: int, message: str, headers: Mapping[str, str] | None = None,
           **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status,
                        headers=headers)


_WHY = {404: "unknown case, scenario or run", 409: "the run is not done yet",
        413: f"request body larger than {MAX_BODY_BYTES} bytes (counted as received)",
        422: "invalid request", 429: "too many runs and reports in flight; try again later"}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (JSON :class:`ErrorBody`)."""
    return {code: {"model": ErrorBody, "description": _WHY[code]} for code in codes}


def _builtin_case_names() -> list[str]:
    from blackout.cases import builtin_cases

    return list(builtin_cases())


def _grid(case: str) -> Any:
    """A built-in case (never a path: the API reads no files a client names)."""
    import difflib

    from blackout.cases import load_case

    names = _builtin_case_names()
    if case not in names:
        close = difflib.get_close_matches(case, names, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise HTTPException(404, f"unknown case '{case}'{hint} (see /api/cases)")
    grid = load_case(case)
    if grid.bus.n > MAX_MAP_BUSES:
        raise HTTPException(422, f"case '{case}' has {grid.bus.n} buses; the web map takes "
                                 f"at most {MAX_MAP_BUSES} (use the CLI for larger cases)")
    return grid


@lru_cache(maxsize=8)
def _geometry(case: str) -> dict[str, Any]:
    from blackout.report import case_geojson, pre_event_loading_percent

    grid = _grid(case)
    fc = case_geojson(grid)
    loading = pre_event_loading_percent(grid)
    for feat in fc["features"]:
        if feat["properties"]["layer"] == "branch":
            feat["properties"]["loading_percent"] = loading[feat["properties"]["id"]]
    return fc


def _run_trips(req: RunRequest) -> tuple[dict[str, Any], Any]:
    from blackout.cascade.engine import simulate
    from blackout.cascade.settings import CascadeSettings
    from blackout.events import Event
    from blackout.flow.ratings import apply_ratings
    from blackout.report import view_data

    grid = apply_ratings(_grid(req.case), req.derive_ratings)
    events = [Event(t.time_s, t.kind, _element(grid, t.kind, t.name, t.id), "trip",
                    cause="user") for t in req.trips]
    tl = simulate(grid, events, settings=CascadeSettings(mode=req.mode, horizon_s=req.horizon_s))
    return view_data(tl), tl


def _element(grid: Grid, kind: str, name: str | None, id_: int | None) -> int:
    if name is not None:
        return int(grid.find(kind, name))
    table = getattr(grid, kind)
    if id_ is None or id_ >= table.n:
        raise UnknownElementError(f"no {kind} with id {id_} in case '{grid.name}' "
                                  f"(ids 0..{table.n - 1})")
    return int(id_)


def create_app(*, workers: int = 1) -> FastAPI:
    """The FastAPI application (the API, the page, and MapLibre from its package)."""
    app = FastAPI(title="blackout", version="0.1.0", docs_url=None,
                  description="Trip elements of a power grid and watch the cascade.")
    jobs = JobStore(workers=workers)
    app.state.jobs = jobs

    app.add_middleware(BodyLimitMiddleware, max_bytes=MAX_BODY_BYTES)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})  # 405: Allow
        if exc.status_code == 413:  # the rest of the body is never read: end the connection
            headers["connection"] = "close"
        return _error(exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg", "")}
                  for e in exc.errors()]
        first = errors[0] if errors else {"loc": "", "msg": "invalid request"}
        return _error(422, f"invalid request: {first['loc']}: {first['msg']}", errors=errors)

    @app.exception_handler(BlackoutError)
    async def bad_input(_: Request, exc: BlackoutError) -> JSONResponse:
        status = 422 if isinstance(exc, UnknownElementError) else 400
        return _error(status, str(exc).replace("\n", " "))

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        return _error(500, f"internal error: {type(exc).__name__}")

    @app.get("/api/cases", tags=["cases"])
    def list_cases() -> dict[str, Any]:
        """Built-in cases by name, with where each comes from."""
        from blackout.cases import builtin_cases

        return {"cases": [{"name": c.name, "source": c.source}
                          for c in builtin_cases().values()]}

    @app.get("/api/cases/{case}/geometry", tags=["cases"], responses=_errors(404, 422))
    def case_geometry(case: str) -> JSONResponse:
        """The case as a GeoJSON FeatureCollection: regions, branches, buses, generators,
        each with ``properties.layer`` and ``properties.id`` (the element's position)."""
        return JSONResponse(_geometry(case))

    @app.get("/api/scenarios", tags=["scenarios"])
    def list_scenarios() -> dict[str, Any]:
        """Built-in scenarios: name, case, description, and ``default`` (the scenario
        ``blackout run`` runs with no argument)."""
        from blackout.scenario import DEFAULT_SCENARIO, builtin_scenarios

        return {"scenarios": [{"name": s.name, "case": s.case, "description": s.description,
                               "default": s.name == DEFAULT_SCENARIO}
                              for s in builtin_scenarios().values()]}

    def _accepted(label: str, work: Any) -> JSONResponse:
        try:
            job = jobs.submit(label, work)
        except BusyError as exc:
            return _error(429, str(exc))
        body = job.to_dict(with_result=False)
        body["poll"] = f"/api/runs/{job.id}"
        return JSONResponse(body, status_code=202)

    @app.post("/api/runs", status_code=202, tags=["runs"],
              responses=_errors(404, 413, 422, 429))
    def start_run(req: RunRequest) -> JSONResponse:
        """Trip elements of a case (by name or id); returns a job id to poll."""
        grid = _grid(req.case)
        if req.derive_ratings is not None:  # a bad rule is refused now, not in the job
            from blackout.grid.ratings import RatingsSpecError, parse_ratings_spec

            try:
                parse_ratings_spec(req.derive_ratings, option="derive_ratings")
            except RatingsSpecError as exc:
                raise HTTPException(422, str(exc)) from None
        for t in req.trips:  # unknown elements are refused now, not in the job
            _element(grid, t.kind, t.name, t.id)
        names = ", ".join(t.name or f"{t.kind} {t.id}" for t in req.trips[:3])
        return _accepted(f"{req.case}: trip {names}", lambda: _run_trips(req))

    @app.post("/api/scenarios/{name}/runs", status_code=202, tags=["runs"],
              responses=_errors(404, 413, 422, 429))
    def start_scenario(name: str, req: ScenarioRunRequest | None = None) -> JSONResponse:
        """Run a built-in scenario; returns a job id to poll."""
        from blackout.report import view_data
        from blackout.scenario import builtin_scenarios
        from blackout.scenario.run import run_scenario

        scenarios = builtin_scenarios()
        if name not in scenarios:
            raise HTTPException(404, f"unknown scenario '{name}' (see /api/scenarios)")
        overrides = {k: v for k, v in (req.model_dump() if req else {}).items()
                     if v is not None}

        def work() -> tuple[dict[str, Any], Any]:
            # the cascade only: the map animates it (the CLI adds the 8-day restoration)
            outcome = run_scenario(scenarios[name].path, restore=False, **overrides)
            view = view_data(outcome)
            view["scenario"] = {**view.get("scenario", {}),
                                "description": scenarios[name].description}
            return view, outcome.timeline

        return _accepted(f"scenario {name}", work)

    @app.get("/api/runs/{job_id}", tags=["runs"], responses=_errors(404))
    def run_status(job_id: str) -> dict[str, Any]:
        """A run's status; with ``result`` (summary, events, frames, traces) when done."""
        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"unknown run '{job_id}' (runs are kept for a while)")
        return job.to_dict()

    @app.get("/api/runs/{job_id}/report", response_class=HTMLResponse, tags=["runs"],
             responses=_errors(404, 409, 429))
    def run_report(job_id: str, request: Request) -> Response:
        """The run's self-contained HTML report (rendered once per run, then kept)."""
        from blackout.report import pre_event_loading_percent, render_report

        job = jobs.get(job_id)
        if job is None:
            raise HTTPException(404, f"unknown run '{job_id}'")
        timeline = job.timeline
        if job.status != "done" or timeline is None:
            raise HTTPException(409, f"run '{job_id}' is {job.status}; no report yet")

        def render() -> str:
            grid = timeline.grid
            view = dict(job.view or {})
            view["branch_loading_percent"] = pre_event_loading_percent(grid)
            view.setdefault("assumptions", {"mode": timeline.mode})
            return render_report(view, grid)

        try:
            body = jobs.report_gz(job, render)
        except BusyError as exc:
            return _error(429, str(exc))
        headers = {"vary": "accept-encoding"}
        if "gzip" in request.headers.get("accept-encoding", "").lower():
            headers["content-encoding"] = "gzip"
        else:
            body = gzip.decompress(body)
        return Response(body, media_type="text/html; charset=utf-8", headers=headers)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """Swagger UI from the swagger-ui-bundle package: no CDN, works offline."""
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url="/openapi.json", title="blackout API",
                                   swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/vendor/swagger/swagger-ui.css",
                                   swagger_favicon_url="/vendor/swagger/favicon.png")

    @app.get("/vendor/swagger/{name}", include_in_schema=False)
    def swagger_asset(name: str) -> FileResponse:
        if name not in SWAGGER_FILES:
            raise HTTPException(404, f"unknown asset '{name}'")
        try:  # the package ships Swagger UI 5 (OpenAPI 3.1) in its static folder
            import fastapi_offline
        except ImportError:
            raise HTTPException(503, "Swagger UI not installed: pip install "
                                "'blackout-sim[web]' (fastapi-offline)") from None
        return FileResponse(Path(fastapi_offline.__file__).parent / "static" / name)

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        return FileResponse(maplibre_asset(name))

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
