"""An OpenAI-compatible chat-completions endpoint, so chat front ends (Open WebUI and the like) can use a
domain assistant as a "model": ``model`` names the domain, the last user message is the question.

The reply's content is the verified answer with its sources listed under it; the same citations are in a
structured field (``citations`` on the completion, ``vetta`` with the whole answer). Earlier turns and any
system message are not used: the domain's own prompt and verification decide what is said.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(max_length=32)
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens...: accepted, not used
    model: str = Field(max_length=64)
    messages: list[ChatMessage] = Field(min_length=1, max_length=200)
    stream: bool = False


def question_of(messages: list[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            content = message.content
            if isinstance(content, list):  # [{"type": "text", "text": ...}, {"type": "image_url"...}]
                content = " ".join(part.get("text", "") for part in content if part.get("type") == "text")
            return (content or "").strip()
    return ""


def reply_text(answer) -> str:
    lines = [*(f"!! {alert}" for alert in answer.alerts), answer.text]
    lines += [f"Note: {notice}" for notice in answer.notices]
    if answer.citations:
        lines.append("\nSources:")
        for cite in answer.citations:
            p = cite.provenance
            lines.append(f"[{cite.number}] {cite.label or cite.title or cite.source}"
                         f" (vetted by {p.vetted_by or '-'} on {p.vetted_on or '-'})")
    return "\n".join(lines)


def citations_of(answer) -> list[dict[str, Any]]:
    return [{"number": c.number, "source": c.source, "title": c.title, "sha256": c.sha256, "start": c.start,
             "end": c.end, "quote": c.quote, "label": c.label, "vetted_by": c.provenance.vetted_by,
             "vetted_on": c.provenance.vetted_on, "license": c.provenance.license} for c in answer.citations]


def add_chat_routes(app: FastAPI, service, caller, answer_of, AskRequest) -> None:
    from .app import ApiError, _jsonable

    @app.get("/v1/models", tags=["openai"])
    async def models(principal=Depends(caller)):
        """The served domains, as OpenAI "models"."""
        return {"object": "list", "data": [{"id": domain, "object": "model", "created": 0, "owned_by": "vetta"}
                                           for domain in service.domains]}

    @app.post("/v1/chat/completions", tags=["openai"])
    async def chat(request: Request, body: ChatRequest, principal=Depends(caller)):
        question = question_of(body.messages)
        if not question:
            raise ApiError(422, "invalid_request", "no user message with text to answer")
        answer = await service.run(answer_of(request, AskRequest(domain=body.model, question=question), principal))
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        text, citations = reply_text(answer), citations_of(answer)
        extra = {"citations": citations, "vetta": _jsonable(answer.as_dict())}
        if not body.stream:
            return {"id": completion_id, "object": "chat.completion", "created": created, "model": body.model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}, **extra}

        def chunk(delta: dict, finish: str | None = None, **more) -> bytes:
            data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **more}
            return format_sse_event(data_str=json.dumps(data, ensure_ascii=False))

        async def events():
            yield chunk({"role": "assistant", "content": ""})
            # one chunk per line of the reply: each shown sentence was verified before any is sent
            lines = text.split("\n")
            for number, line in enumerate(lines):
                yield chunk({"content": line + ("\n" if number < len(lines) - 1 else "")})
            yield chunk({}, "stop", **extra)
            yield format_sse_event(data_str="[DONE]")

        return EventSourceResponse(events())
