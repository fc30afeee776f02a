"""The HTTP API (FastAPI): ask, stream, retrieve, sources, review, audit, health, readiness.

Every route but ``/health`` and ``/ready`` needs a caller (``vetta.server.auth``); the caller's groups reach
``vetta.Assistant`` and are applied there, in the catalog, as for every other caller of the library. Every
request, refused ones included, is written to the audit log with its user. Errors are JSON
(``{"error": {"status", "code", "message"}}``), translated in one place (``_error``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any, Callable

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import audit
from ..errors import (ConfigError, EmptyCorpusError, ModelBusy, ModelError, SourceNotFoundError, UnknownDomainError,
                      VettaError)
from ..home import resolve_home
from .auth import Authenticator
from .keys import Principal
from .settings import ServeSettings, load_serve_settings


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


_STATUS = [  # most specific first
    (UnknownDomainError, 404, "unknown_domain"),
    (SourceNotFoundError, 404, "not_found"),
    (EmptyCorpusError, 409, "empty_domain"),
    (ConfigError, 400, "bad_request"),
    (ModelBusy, 503, "model_busy"),
    (ModelError, 502, "model_failed"),
    (audit.AuditError, 503, "audit_unavailable"),
]


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "code": code, "message": message}}, status, headers=headers)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskRequest(Strict):
    domain: str = Field(max_length=64)
    question: str = Field(min_length=1)
    filters: dict[str, Any] | None = None


class RetrieveRequest(Strict):
    domain: str = Field(max_length=64)
    query: str = Field(min_length=1)
    k: int | None = Field(None, ge=1)
    filters: dict[str, Any] | None = None


class DecisionRequest(Strict):
    source: str = Field(min_length=1, max_length=1000)
    note: str = Field("", max_length=2000)


class Service:
    """What every request shares in one worker: settings, the key store, one store and retriever per domain."""

    def __init__(self, home: Path, settings: ServeSettings):
        from ..api import get_registry

        self.home, self.settings = home, settings
        self.auth = Authenticator(home, settings)
        installed = set(get_registry().domains)
        self.domains = tuple(settings.domains) or tuple(sorted(installed))
        missing = sorted(set(self.domains) - installed)
        if missing:
            raise ConfigError(f"[serve] domains: {', '.join(missing)} not installed; installed: {', '.join(sorted(installed))}")
        self._shared: dict[str, tuple[Any, Any]] = {}
        self._sharing = threading.Lock()

    def assistant(self, domain: str, principal: Principal):
        """The assistant for this caller: their user and groups, over the domain's shared store."""
        from ..api import Assistant

        if domain not in self.domains:
            raise ApiError(404, "unknown_domain", f"domain {domain!r} is not served here; served: {', '.join(self.domains)}")
        assistant = Assistant(domain, home=self.home, user=principal.user, groups=principal.groups or None)
        with self._sharing:  # concurrent first requests share one store, not one each
            store, retriever = self._shared.get(domain, (None, None))
            if store is None:
                store = assistant.store
                self._shared[domain] = (store, None)
        assistant._store, assistant._retriever = store, retriever
        return assistant

    def keep(self, domain: str, assistant) -> None:
        """Share the retriever an assistant built (it holds no caller state: access is per search)."""
        with self._sharing:
            if assistant._retriever is not None and self._shared.get(domain, (None, None))[1] is None:
                self._shared[domain] = (assistant._store, assistant._retriever)

    def check_length(self, text: str, what: str) -> str:
        if len(text) > self.settings.max_question_chars:
            raise ApiError(422, "too_long", f"{what} is {len(text)} characters; at most {self.settings.max_question_chars}")
        return text

    async def run(self, function: Callable[[], Any]) -> Any:
        """``function`` in a thread, under the request's deadline: a model whose queue cannot be served in
        the time left refuses at once (``ModelBusy``: 503 with Retry-After), and a request that gave up
        leaves the queue instead of keeping its place behind the next caller's."""
        from ..models.base import deadline

        limit = deadline(self.settings.request_timeout_s)

        def bounded():
            with limit:
                return function()
        try:
            return await asyncio.wait_for(run_in_threadpool(bounded), self.settings.request_timeout_s)
        except asyncio.TimeoutError:
            raise ApiError(504, "timeout", f"the request took longer than {self.settings.request_timeout_s:g} s") from None


def create_app(home: str | Path | None = None, settings: ServeSettings | None = None) -> FastAPI:
    """The API over ``home`` (default ``$VETTA_HOME``) with ``settings`` (default: its ``[serve]`` table)."""
    home = resolve_home(home)
    settings = settings or load_serve_settings(home)
    service = Service(home, settings)
    app = FastAPI(title="vetta", version=_version(),
                  description="Answers from vetted documents, every sentence verified against its citations.")
    from .limits import BodyLimit

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # inside the audit middleware below
    app.state.service = service

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError):
        return _error(error.status, error.code, error.message, error.headers)

    @app.exception_handler(VettaError)
    async def vetta_error(request: Request, error: VettaError):
        for kind, status, code in _STATUS:
            if isinstance(error, kind):
                retry = getattr(error, "retry_after", None)
                return _error(status, code, str(error), {"Retry-After": str(round(retry))} if retry else None)
        return _error(500, "failed", str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException):
        codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        return _error(error.status_code, codes.get(error.status_code, "http_error"), str(error.detail),
                      getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in issue['loc'][1:]) or 'body'}: {issue['msg']}"
                             for issue in error.errors())
        return _error(422, "invalid_request", problems[:1000])

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception):
        import logging

        logging.getLogger("vetta.server").exception("request failed")
        return _error(500, "internal_error", "the request failed; the server log has the details")

    @app.middleware("http")
    async def audit_requests(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        principal: Principal | None = getattr(request.state, "principal", None)
        entry = {
            "kind": "request", "time": _now(), "user": principal.user if principal else "-",
            "groups": list(principal.groups) if principal else [], "via": principal.via if principal else "",
            "domain": getattr(request.state, "domain", None), "method": request.method,
            "path": request.url.path[:300], "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
        await run_in_threadpool(audit.append, service.home, entry)
        return response

    async def caller(request: Request, authorization: str | None = Header(None, include_in_schema=False),
                     x_api_key: str | None = Header(None, include_in_schema=False)) -> Principal:
        principal = await run_in_threadpool(service.auth.principal, authorization, x_api_key)
        if principal is None:
            raise ApiError(401, "unauthorized", "a valid API key (Authorization: Bearer vetta_...) or token is required",
                           {"WWW-Authenticate": "Bearer"})
        request.state.principal = principal
        limit = settings.rate_limit_per_minute
        caller_id = principal.key_id or f"{principal.via}:{principal.user}"
        if limit and not await run_in_threadpool(service.auth.keys.count_request, caller_id, limit):
            raise ApiError(429, "rate_limited", f"more than {limit} requests this minute", {"Retry-After": "60"})
        return principal

    def role(name: str):
        async def check(principal: Principal = Depends(caller)) -> Principal:
            if not principal.has(name):
                raise ApiError(403, "forbidden", f"this needs the {name} role")
            return principal
        return check

    def for_domain(request: Request, domain: str, principal: Principal):
        request.state.domain = domain
        return service.assistant(domain, principal)

    @app.get("/health", tags=["service"])
    async def health():
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["service"])
    async def ready():
        """Readiness: the home and key store are readable and each served domain's store opens."""
        def check():
            service.auth.keys.list()
            return {domain: service.assistant(domain, Principal(user="-")).store.catalog.count_documents() > 0
                    for domain in service.domains}
        try:
            domains = await service.run(check)
        except Exception:
            return _error(503, "not_ready", "the store or the key store cannot be read")
        return {"status": "ready", "domains": domains}

    @app.get("/v1/me", tags=["service"])
    async def me(principal: Principal = Depends(caller)):
        """The caller as the server sees them: user, groups, roles."""
        return {"user": principal.user, "groups": list(principal.groups), "roles": list(principal.roles)}

    @app.get("/v1/domains", tags=["service"])
    async def domains(principal: Principal = Depends(caller)):
        return {"domains": list(service.domains)}

    def answer_of(request: Request, body: AskRequest, principal: Principal):
        service.check_length(body.question, "the question")
        assistant = for_domain(request, body.domain, principal)

        def ask():
            answer = assistant.ask(body.question, filters=body.filters)
            service.keep(body.domain, assistant)
            return answer
        return ask

    @app.post("/v1/ask", tags=["answers"])
    async def ask(request: Request, body: AskRequest, principal: Principal = Depends(caller)):
        """The whole ``Answer``: text, verified sentences, citations with provenance, events, hits."""
        answer = await service.run(answer_of(request, body, principal))
        return _jsonable(answer.as_dict())

    @app.post("/v1/ask/stream", tags=["answers"],
              responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}})
    async def ask_stream(request: Request, body: AskRequest, principal: Principal = Depends(caller)):
        """Server-sent events: ``sentence`` for each shown sentence (sent only once verified), then
        ``answer`` with the whole answer, then ``done``. The answer is made before the stream starts, so a
        refusal (busy model, timeout, unknown domain) is a JSON error with its status, not a broken stream."""
        answer = await service.run(answer_of(request, body, principal))
        data = _jsonable(answer.as_dict())

        def event(kind: str, payload, number: int | None = None) -> str:
            return format_sse_event(event=kind, id=None if number is None else str(number),
                                    data_str=json.dumps(payload, ensure_ascii=False))
        events = [event("sentence", sentence, number) for number, sentence in enumerate(data["sentences"])]
        events += [event("answer", data), event("done", {"abstained": answer.abstained})]
        return EventSourceResponse(iter(events))

    @app.post("/v1/retrieve", tags=["answers"])
    async def retrieve(request: Request, body: RetrieveRequest, principal: Principal = Depends(caller)):
        """The passages the caller may see, best first (redacted and audited like an ask)."""
        service.check_length(body.query, "the query")
        if body.k and body.k > settings.max_k:
            raise ApiError(422, "too_many", f"k is {body.k}; at most {settings.max_k}")
        assistant = for_domain(request, body.domain, principal)

        def find():
            hits = assistant.retrieve(body.query, k=body.k, filters=body.filters)
            service.keep(body.domain, assistant)
            return hits
        hits = await service.run(find)
        from dataclasses import asdict

        return {"hits": [_jsonable(asdict(hit)) for hit in hits]}

    @app.get("/v1/domains/{domain}/sources", tags=["documents"])
    async def sources(request: Request, domain: str, principal: Principal = Depends(caller)):
        """The documents the caller may see, with provenance."""
        assistant = for_domain(request, domain, principal)
        return {"sources": _jsonable(await service.run(assistant.sources))}

    @app.get("/v1/domains/{domain}/pending", tags=["review"])
    async def pending(request: Request, domain: str, principal: Principal = Depends(role("reviewer"))):
        """Versions waiting for sign-off that the reviewer may see."""
        assistant = for_domain(request, domain, principal)
        return {"pending": _jsonable(await service.run(assistant.pending))}

    @app.post("/v1/domains/{domain}/approve", tags=["review"])
    async def approve(request: Request, domain: str, body: DecisionRequest,
                      principal: Principal = Depends(role("reviewer"))):
        """Sign off the newest pending version of a source; the caller is recorded as its reviewer."""
        return await decide(request, domain, body, principal, "approve")

    @app.post("/v1/domains/{domain}/reject", tags=["review"])
    async def reject(request: Request, domain: str, body: DecisionRequest,
                     principal: Principal = Depends(role("reviewer"))):
        return await decide(request, domain, body, principal, "reject")

    async def decide(request, domain, body, principal, how):
        assistant = for_domain(request, domain, principal)
        if body.source not in {row["source"] for row in await service.run(assistant.pending)}:
            raise ApiError(404, "not_found", f"{body.source}: no pending version you may see in {domain!r}")
        version = await service.run(lambda: getattr(assistant, how)(body.source, reviewer=principal.user, note=body.note))
        return {"version": _jsonable(version)}

    @app.get("/v1/audit", tags=["service"])
    async def audit_entries(request: Request, domain: str | None = None, limit: int = 100,
                            principal: Principal = Depends(caller)):
        """The caller's own audit entries (an auditor's: everyone's), newest last."""
        user = None if principal.has("auditor") else principal.user
        limit = max(1, min(limit, 1000))
        found = await service.run(lambda: audit.entries(service.home, domain=domain, user=user, limit=limit))
        return {"entries": found}

    from .openai_chat import add_chat_routes

    add_chat_routes(app, service, caller, answer_of, AskRequest)
    return app


def app_from_environment() -> FastAPI:
    """What each uvicorn worker of ``vetta serve`` builds: the home and settings the command resolved."""
    import os

    raw = os.environ.get("VETTA_SERVE_SETTINGS")
    return create_app(settings=ServeSettings.model_validate_json(raw) if raw else None)


def _jsonable(value):
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("vetta")
    except PackageNotFoundError:
        return "0"
