"""The studio's JSON API (FastAPI), and the page it serves.

The API is the engine's face; the page is one client of it. Every route answers bad input with
an HTTP 4xx and a body naming the field at fault::

    {"detail": "the scenario is invalid",
     "errors": [{"field": "drilling.blocks.mabi.rigs",
                 "message": "expected less than or equal to 200, got 380",
                 "where": "my-scenarios/plan-studio.yaml:11"}]}

(a scenario's problems are those ``cbm-sim validate`` prints, with their field paths); a run
that fails is a 500 with its message, never a traceback, and the server goes on. The OpenAPI
description is at ``/api/openapi.json``; its browsable form is the page's "API" link (served
from the package: the studio loads nothing from the internet).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import cbm_sim
from cbm_sim.scenario.files import ScenarioError
from cbm_sim.studio import figures
from cbm_sim.studio.drafts import Composed, NotFoundError, Workspace
from cbm_sim.studio.jobs import Jobs
from cbm_sim.studio.levers import GROUPS, LeverError
from cbm_sim.studio.runs import BusyError, RunFailedError, Runner, records

STATIC: Final[Path] = Path(__file__).parent / "static"
MAX_BODY_BYTES: Final[int] = 256 * 1024
"""Largest request body [bytes]: twice the largest scenario file read (128 KiB,
:data:`cbm_sim.scenario.reading.MAX_FILE_BYTES`); larger requests get 413."""
MAX_MEMBERS: Final[int] = 200
"""Largest ensemble started from the page (the README's 200-member ensemble)."""
MAX_CHANGES: Final[int] = 500
RunFile = Literal[
    "annual.csv",
    "annual.parquet",
    "daily.parquet",
    "events.parquet",
    "targets.csv",
    "valuation.csv",
    "scenario.yaml",
    "meta.json",
]
"""The files of a run folder a browser may download (nothing else is served from it)."""
EnsembleFile = Literal[
    "percentiles.csv", "probabilities.csv", "members.csv", "statuses.csv", "failures.csv"
]
_MEDIA = {".csv": "text/csv; charset=utf-8", ".parquet": "application/vnd.apache.parquet",
          ".yaml": "application/yaml; charset=utf-8", ".json": "application/json",
          ".pdf": "application/pdf"}  # fmt: skip

RunId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{16}$", description="a run id")]
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$", description="a job id")]
Lang = Annotated[Literal["zh", "en"], Query(description="language of the chart's labels")]


# --------------------------------------------------------------------------- request bodies
class Draft(BaseModel):
    """A base scenario and the levers changed on it."""

    model_config = ConfigDict(extra="forbid")
    base: str = Field(max_length=100, description="id of the base scenario (GET /api/scenarios)")
    changes: dict[str, Any] = Field(
        default_factory=dict,
        max_length=MAX_CHANGES,
        description="lever id (field path) → new value: a number, {year: value} or an ISO date",
    )
    name: str | None = Field(None, max_length=100, description="scenario name (file stem)")
    description: str = Field("", max_length=2000)


class SaveRequest(Draft):
    overwrite: bool = Field(False, description="replace a scenario saved earlier by this name")


class EnsembleRequest(Draft):
    n: int = Field(16, ge=1, le=MAX_MEMBERS, description="members")
    step_days: int | None = Field(
        30, ge=1, le=31, description="dispatch step of the members [days]; null: the scenario's"
    )


class GoalSeekRequest(Draft):
    year: int = Field(ge=1990, le=2100, description="year of the target")
    target: float = Field(description="target in 亿元 (output.*) or 亿m³ (production.*)")
    lever: Literal["drilling", "peak_rate", "price"]
    quantity: str = Field("output.total", max_length=100)
    low: float = Field(0.5, ge=0, le=100)
    high: float = Field(3.0, ge=0, le=100)


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: str = Field(pattern=r"^[0-9a-f]{16}$", description="run id")
    lang: Literal["zh", "en"] = "zh"
    ensemble: str | None = Field(
        None, pattern=r"^[0-9a-f]{12}$", description="id of a finished ensemble job to include"
    )


# --------------------------------------------------------------------------- errors
class ApiError(Exception):
    """An answer with a status, a summary and the fields at fault."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors


def _error(status: int, detail: str, errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "errors": errors})


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def problems_error(composed: Composed) -> ApiError:
    """The problems of an invalid draft as a 422."""
    errors = [
        {
            "field": p.path,
            "message": p.message,
            "where": f"{p.file}:{p.line}" if p.line is not None else p.file,
        }
        for p in composed.problems
    ]
    return ApiError(422, "the scenario is invalid", errors)


class BodyLimit:
    """Refuse request bodies above ``limit`` bytes with 413, whether or not they state their
    length.

    A body of unstated length (chunked) is read and counted here, up to ``limit`` bytes,
    and replayed to the app only when it fits: counting it while the app reads would let the
    framework's body parser turn the refusal into its own 400 ("error parsing the body")."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    def _too_big(self) -> JSONResponse:
        return JSONResponse(
            status_code=413,
            content={
                "detail": f"request body larger than {self.limit:,} bytes",
                "errors": [{"field": "body", "message": f"at most {self.limit:,} bytes"}],
            },
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.limit:
                await self._too_big()(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server holds it to its stated length
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._too_big()(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download named ``filename``, which may be Chinese:
    an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987), as headers are latin-1."""
    from urllib.parse import quote

    fallback = filename.encode("ascii", "replace").decode("ascii").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


SAFE_METHODS: Final[frozenset[str]] = frozenset({"GET", "HEAD", "OPTIONS"})


class SameOrigin:
    """Refuse a state-changing request (POST, PUT, DELETE …) sent by a page of another origin
    with 403: the studio has no login, so without it any web page the planner opens could
    start runs and jobs or write into ``my-scenarios/`` (cross-site request forgery).

    A request is cross-origin when its ``Origin`` header names another host and port than
    its ``Host`` header, or when the browser marks it ``Sec-Fetch-Site: cross-site``; tools
    that send neither (curl, the Python client) are let through, as they are not a browser
    acting for another site.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method", "GET") in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        host = headers.get(b"host", b"").decode("latin-1")
        site = headers.get(b"sec-fetch-site", b"").decode("latin-1")
        # "null" (a sandboxed frame, a file: page) is no origin of the studio's either
        foreign = site == "cross-site" or (origin != "" and origin.split("://", 1)[-1] != host)
        if foreign:
            refused = JSONResponse(
                status_code=403,
                content={
                    "detail": f"cross-origin request refused (Origin {origin or site!r}, "
                    f"Host {host!r})",
                    "errors": [{"field": "origin", "message": "the studio's own page only"}],
                },
            )
            await refused(scope, receive, send)
            return
        await self.app(scope, receive, send)


# --------------------------------------------------------------------------- the app
def create_app(
    workspace: Workspace,
    runner: Runner,
    jobs: Jobs,
    *,
    allowed_hosts: tuple[str, ...] | None = None,
) -> FastAPI:
    """The studio's ASGI app.

    Parameters
    ----------
    workspace, runner, jobs
        The scenarios, the run pool and the background jobs.
    allowed_hosts
        ``Host`` headers accepted (bound to loopback: the loopback names only, so that a web
        page elsewhere cannot reach the studio through a DNS name pointed at 127.0.0.1);
        ``None`` accepts any.
    """
    app = FastAPI(
        title="cbm-sim studio",
        version=cbm_sim.__version__,
        description="The scenario studio's API: scenarios, levers, runs, targets, valuation, "
        "ensembles and goal-seeks of cbm-sim (coalbed-methane cluster of Jincheng).",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    if allowed_hosts is not None:
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(BodyLimit)
    app.add_middleware(SameOrigin)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_of(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return _error(422, "bad request: " + "; ".join(
            f"{e['field']}: {e['message']}" for e in errors), errors)  # fmt: skip

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.detail, exc.errors)

    @app.exception_handler(LeverError)
    async def _lever(_request: Request, exc: LeverError) -> JSONResponse:
        return _error(422, str(exc), [{"field": exc.field, "message": exc.message}])

    @app.exception_handler(NotFoundError)
    async def _missing(_request: Request, exc: NotFoundError) -> JSONResponse:
        return _error(404, str(exc), [{"field": exc.field, "message": str(exc)}])

    @app.exception_handler(BusyError)
    async def _busy(_request: Request, exc: BusyError) -> JSONResponse:
        return _error(429, str(exc), [{"field": "body", "message": str(exc)}])

    @app.exception_handler(RunFailedError)
    async def _failed(_request: Request, exc: RunFailedError) -> JSONResponse:
        return _error(500, str(exc), [])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code in (404, 405):  # no route, or not this method: say which
            message = f"{message}: {request.method} {request.url.path} (see /api/openapi.json)"
        return _error(exc.status_code, message, [{"field": "path", "message": message}])

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # never a traceback on the page: the type and message, the server goes on
        return _error(500, f"internal error: {type(exc).__name__}: {exc}", [])

    async def compose(draft: Draft) -> Composed:
        try:
            composed = await run_in_threadpool(
                workspace.compose,
                draft.base,
                draft.changes,
                name=draft.name,
                description=draft.description,
            )
        except ScenarioError as exc:  # the base file itself is invalid
            raise ApiError(
                422,
                f"the base scenario {draft.base!r} is invalid",
                [{"field": p.path or "base", "message": p.message, "where": f"{p.file}:{p.line}"}
                 for p in exc.problems],
            ) from None  # fmt: skip
        return composed

    async def valid(draft: Draft) -> Composed:
        composed = await compose(draft)
        if composed.scenario is None:
            raise problems_error(composed)
        return composed

    # ------------------------------------------------------------------ page
    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/fonts/{name}", include_in_schema=False)
    def font(name: Literal["ui.ttf", "full.otf"]) -> FileResponse:
        from cbm_sim.studio.fonts import font_file

        return FileResponse(
            font_file(name), media_type="font/ttf" if name.endswith("ttf") else "font/otf",
            headers={"Cache-Control": "max-age=86400"},
        )  # fmt: skip

    # ------------------------------------------------------------------ scenarios
    @app.get("/api/health", tags=["studio"])
    async def health() -> dict[str, Any]:
        """The server is up; its version and workers."""
        return {"status": "ok", "version": cbm_sim.__version__, "workers": runner.workers}

    @app.get("/api/scenarios", tags=["scenarios"])
    def list_scenarios() -> list[dict[str, Any]]:
        """The scenarios the studio offers as bases (shipped and saved)."""
        out = []
        for scenario_id, (path, saved) in workspace.files().items():
            out.append({"id": scenario_id, "file": path.name, "saved": saved})
        return out

    @app.get("/api/scenarios/{scenario_id}", tags=["scenarios"])
    def read_scenario(
        scenario_id: Annotated[str, PathParam(max_length=100)],
    ) -> dict[str, Any]:
        """One scenario: its text and every lever with its base value, unit, bounds, source."""
        try:
            base = workspace.base(scenario_id, "scenario_id")
        except ScenarioError as exc:
            raise ApiError(
                422,
                f"scenario {scenario_id!r} is invalid",
                [{"field": p.path or "scenario_id", "message": p.message} for p in exc.problems],
            ) from None
        return {
            "id": base.id,
            "name": base.scenario.name,
            "description": base.scenario.description,
            "saved": base.saved,
            "horizon": [str(base.scenario.horizon.start), str(base.scenario.horizon.end)],
            "step_days": base.scenario.horizon.step_days,
            "has_uncertainty": bool(base.scenario.uncertainty),
            "text": base.text,
            "groups": list(GROUPS),
            "levers": [lever.to_json() for lever in base.levers.values()],
        }

    @app.get("/api/scenarios/{scenario_id}/yaml", tags=["scenarios"])
    def scenario_yaml(scenario_id: Annotated[str, PathParam(max_length=100)]) -> Response:
        """Download a scenario file as it is on disk."""
        base = workspace.base(scenario_id, "scenario_id")
        return Response(
            base.text,
            media_type="application/yaml; charset=utf-8",
            headers={"Content-Disposition": attachment(base.path.name)},
        )

    @app.post("/api/validate", tags=["scenarios"])
    async def validate(draft: Draft) -> dict[str, Any]:
        """Validate a draft as ``cbm-sim validate`` would its saved file; 422 lists every
        problem with its field path."""
        composed = await valid(draft)
        return {"valid": True, "name": composed.name, "yaml": composed.text,
                "changes": _changes(composed)}  # fmt: skip

    @app.post("/api/draft.yaml", tags=["scenarios"])
    async def draft_yaml(draft: Draft) -> Response:
        """The draft as the YAML file a save writes (a download; 422 if invalid)."""
        composed = await valid(draft)
        return Response(
            composed.text,
            media_type="application/yaml; charset=utf-8",
            headers={"Content-Disposition": attachment(f"{composed.name}.yaml")},
        )

    @app.post("/api/scenarios", tags=["scenarios"], status_code=201)
    async def save(request: SaveRequest) -> dict[str, Any]:
        """Save a valid draft as ``my-scenarios/<name>.yaml`` (extends its base)."""
        composed = await valid(request)
        path = await run_in_threadpool(workspace.save, composed, overwrite=request.overwrite)
        return {"id": path.stem, "file": f"{path.parent.name}/{path.name}", "yaml": composed.text}

    # ------------------------------------------------------------------ runs
    @app.post("/api/runs", tags=["runs"])
    async def create_run(draft: Draft) -> dict[str, Any]:
        """Run a draft (or return its earlier run): the verdict against every target."""
        started = time.perf_counter()
        composed = await valid(draft)
        run_id, verdict = await runner.run(composed)
        return {
            "run": run_id,
            "name": composed.name,
            "changes": _changes(composed),
            "verdict": named(verdict),
            "elapsed_s": round(time.perf_counter() - started, 3),
        }

    @app.get("/api/runs/{run_id}", tags=["runs"])
    def read_run(run_id: RunId) -> dict[str, Any]:
        """A finished run: its metadata and the target check."""
        view = runner.view(run_id)
        meta = {k: v for k, v in view.meta.items() if k not in ("sha256", "files")}
        return {"run": view.id, "meta": meta, "verdict": named(view.verdict())}

    @app.get("/api/runs/{run_id}/targets", tags=["runs"])
    def run_targets(run_id: RunId) -> list[dict[str, Any]]:
        """Every target of the run's target check (``targets.csv``)."""
        return named(runner.view(run_id).verdict())

    @app.get("/api/runs/{run_id}/valuation", tags=["runs"])
    def run_valuation(run_id: RunId) -> list[dict[str, Any]]:
        """Output value of every item and year (``valuation.csv``, 亿元)."""
        return _records(runner.view(run_id).folder / "valuation.csv")

    @app.get("/api/runs/{run_id}/annual", tags=["runs"])
    def run_annual(run_id: RunId) -> list[dict[str, Any]]:
        """Every annual figure of the run (``annual.csv``, the plan's units)."""
        return _records(runner.view(run_id).folder / "annual.csv")

    @app.get("/api/runs/{run_id}/compare/{other_id}", tags=["runs"])
    def compare(run_id: RunId, other_id: RunId) -> dict[str, Any]:
        """Run ``run_id`` against run ``other_id`` (the base), side by side (the project's diff
        engine, :func:`cbm_sim.studies.diff.diff`): every input that changed (with both
        sources), every summary output that moved and every target (both statuses)."""
        from cbm_sim.studies.diff import Side, diff

        here, there = runner.view(run_id), runner.view(other_id, "other_id")
        found = diff(Side.from_dir(there.folder), Side.from_dir(here.folder))
        targets = found.targets[found.targets["moved"] | found.targets["status_changed"]]
        return {
            "run": run_id,
            "base": other_id,
            "inputs": records(found.inputs),
            "outputs": records(found.moved_outputs()),
            "targets": records(targets),
        }

    @app.get("/api/runs/{run_id}/charts/{chart}.svg", tags=["runs"])
    def run_chart(
        run_id: RunId,
        chart: figures.RunChart,
        lang: Lang = "zh",
    ) -> Response:
        """A chart of the run, drawn by the report's own chart functions (SVG)."""
        view = runner.view(run_id)
        svg = figures.run_chart(view.id, view.folder, chart, lang)
        return Response(svg, media_type="image/svg+xml")

    @app.get("/api/runs/{run_id}/files/{name}", tags=["runs"])
    def run_file(run_id: RunId, name: RunFile) -> FileResponse:
        """Download a file of the run folder (CSV, Parquet, the resolved scenario, meta)."""
        view = runner.view(run_id)
        return FileResponse(
            view.folder / name,
            media_type=_MEDIA[Path(name).suffix],
            filename=f"{view.id}-{name}",
        )

    # ------------------------------------------------------------------ jobs
    @app.post("/api/jobs/ensemble", tags=["jobs"], status_code=202)
    async def start_ensemble(request: EnsembleRequest) -> dict[str, Any]:
        """Start an ensemble of the draft (its ``uncertainty`` section sampled) in the
        background; poll GET /api/jobs/{id}."""
        composed = await valid(request)
        assert composed.scenario is not None
        if not composed.scenario.uncertainty:
            raise ApiError(422, "the scenario has no uncertainty section to sample",
                           [{"field": "base", "message": "no uncertainty entries"}])  # fmt: skip
        out = workspace.runs_dir / f"ensemble-{composed.key}-{request.n}-{request.step_days}"
        job = jobs.start("ensemble", {**_job_scenario(composed), "n": request.n,
                                      "step_days": request.step_days, "out": str(out)})  # fmt: skip
        return jobs.snapshot(job.id)

    @app.post("/api/jobs/goalseek", tags=["jobs"], status_code=202)
    async def start_goalseek(request: GoalSeekRequest) -> dict[str, Any]:
        """Start "what would it take": the smallest lever multiplier that reaches a target."""
        from cbm_sim.studies.goalseek import goal_problems

        composed = await valid(request)
        assert composed.scenario is not None
        problems = await run_in_threadpool(
            goal_problems, composed.scenario, request.year, request.target, request.lever,
            (request.low, request.high), request.quantity,
        )  # fmt: skip
        if problems:
            raise ApiError(
                422,
                "; ".join(f"{what}: {message}" for what, message in problems),
                [{"field": what if what != "target" else "year", "message": message}
                 for what, message in problems],
            )  # fmt: skip
        params = {**_job_scenario(composed), **request.model_dump(include={
            "year", "target", "lever", "quantity", "low", "high"})}  # fmt: skip
        return jobs.snapshot(jobs.start("goalseek", params).id)

    @app.post("/api/jobs/report", tags=["jobs"], status_code=202)
    def start_report(request: ReportRequest) -> dict[str, Any]:
        """Write the PDF report of a run (with an ensemble's pages if given)."""
        view = runner.view(request.run, "run")
        ensemble = None
        if request.ensemble is not None:
            job = jobs.get(request.ensemble)
            if job.kind != "ensemble" or job.status != "done" or job.result is None:
                raise ApiError(
                    422,
                    f"job {request.ensemble!r} is not a finished ensemble",
                    [{"field": "ensemble", "message": "not a finished ensemble"}],
                )
            ensemble = job.result["folder"]
        suffix = request.ensemble or "single"
        out = workspace.runs_dir / f"report-{view.id}-{request.lang}-{suffix}.pdf"
        params = {"run_folder": str(view.folder), "lang": request.lang,
                  "ensemble_folder": ensemble, "out": str(out)}  # fmt: skip
        return jobs.snapshot(jobs.start("report", params).id)

    @app.get("/api/jobs/{job_id}", tags=["jobs"])
    def read_job(job_id: JobId) -> dict[str, Any]:
        """A job's status, progress and, once done, its result."""
        return jobs.snapshot(job_id)

    @app.delete("/api/jobs/{job_id}", tags=["jobs"])
    def cancel_job(job_id: JobId) -> dict[str, Any]:
        """Cancel a queued or running job (its process is ended)."""
        return jobs.cancel(job_id)

    @app.get("/api/jobs/{job_id}/charts/{chart}.svg", tags=["jobs"])
    def job_chart(
        job_id: JobId,
        chart: figures.EnsembleChart,
        lang: Lang = "zh",
    ) -> Response:
        """A chart of a finished ensemble: the fans (P10–P90) and P(met) per target."""
        folder = _ensemble_folder(jobs, job_id)
        return Response(figures.ensemble_chart(job_id, folder, chart, lang),
                        media_type="image/svg+xml")  # fmt: skip

    @app.get("/api/jobs/{job_id}/files/{name}", tags=["jobs"])
    def job_file(job_id: JobId, name: EnsembleFile) -> FileResponse:
        """Download a file of a finished ensemble's folder."""
        folder = _ensemble_folder(jobs, job_id)
        return FileResponse(folder / name, media_type=_MEDIA[".csv"], filename=f"ensemble-{name}")

    @app.get("/api/jobs/{job_id}/report.pdf", tags=["jobs"])
    def job_report(job_id: JobId) -> FileResponse:
        """Download the PDF of a finished report job."""
        job = jobs.get(job_id)
        if job.kind != "report" or job.status != "done" or job.result is None:
            raise ApiError(409, f"job {job_id!r} is not a finished report",
                           [{"field": "job_id", "message": f"status {job.status}"}])  # fmt: skip
        return FileResponse(job.result["file"], media_type="application/pdf",
                            filename="cbm-sim-report.pdf")  # fmt: skip

    @app.get("/api/names", tags=["studio"])
    def display_names() -> dict[str, dict[str, dict[str, str]]]:
        """The display names (Chinese and English) of every section of the project's names
        table (:mod:`cbm_sim.names`): sub-clusters, items, targets, statuses, blocks …"""
        from cbm_sim import names

        return {section: {key: {"zh": n.zh, "en": n.en} for key, n in entries.items()}
                for section, entries in names.table().items()}  # fmt: skip

    @app.get("/api/goalseek/options", tags=["jobs"])
    def goalseek_options() -> dict[str, Any]:
        """The levers and quantities of "what would it take"."""
        from cbm_sim.studies.goalseek import LEVERS
        from cbm_sim.studies.sensitivity import QUANTITIES

        return {"levers": list(LEVERS), "quantities": list(QUANTITIES)}

    return app


def named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Target-check rows with their display names and units (``name_zh``, ``name_en``: the
    project's names table, :func:`cbm_sim.names.target_name` of the row's plan id;
    ``unit_zh``, ``unit_en``: the report's :func:`~cbm_sim.report.style.unit_label`)."""
    from cbm_sim import names
    from cbm_sim.report.style import unit_label

    out = []
    for row in rows:
        unit = str(row.get("unit") or "")
        extra = {f"name_{lang}": names.target_name(str(row.get("id") or ""), lang)
                 for lang in names.LANGS}  # fmt: skip
        extra |= {f"unit_{lang}": unit_label(unit, lang) if unit else "" for lang in names.LANGS}
        out.append({**row, **extra})
    return out


def _changes(composed: Composed) -> list[dict[str, Any]]:
    return [{"lever": k, "base": old, "new": new} for k, (old, new) in composed.changes.items()]


def _job_scenario(composed: Composed) -> dict[str, Any]:
    return {"text": composed.text, "source": composed.source, "base_dir": str(composed.base_dir)}


def _ensemble_folder(jobs: Jobs, job_id: str) -> Path:
    job = jobs.get(job_id)
    if job.kind != "ensemble" or job.status != "done" or job.result is None:
        raise ApiError(409, f"job {job_id!r} is not a finished ensemble",
                       [{"field": "job_id", "message": f"status {job.status}"}])  # fmt: skip
    return Path(job.result["folder"])


def _records(path: Path) -> list[dict[str, Any]]:
    import pandas as pd

    frame = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return [dict(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]


Handler = Callable[..., Awaitable[Any]]
