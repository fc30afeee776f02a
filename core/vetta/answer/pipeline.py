"""The answer path, one stage after another:

    guard the question -> retrieve -> check relevance -> guard the passages -> quote -> write -> verify and
    compose -> contest -> guard the answer -> redact -> audit

Each stage is a small function of the assistant's parts (``Parts``: settings, domain pack, retriever,
model, verifier...) and the question's state (``Ask``). A stage that ends the ask (a refusal, an abstention,
an answer) returns the ``Answer``; otherwise it returns None and the next stage runs. Whatever the outcome,
the answer is guarded, redacted and audited before it is returned. ``Assistant.ask`` is this, and nothing
else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Protocol

from ..domains import DomainPack
from ..errors import ModelBusy
from ..plugins import get_plugin_manager
from ..types import Answer, GuardrailEvent, Hit, Sentence
from . import composer as composing
from .contested import contest
from .prompt import build_messages
from .quotes import select_quotes


class Parts(Protocol):
    """What the stages need of an assistant (``vetta.Assistant`` provides it)."""

    domain: str
    pack: DomainPack
    settings: Any
    home: Path
    user: str | None
    groups: tuple[str, ...] | None

    def find(self, query: str, k: int | None = None, filters: dict | None = None) -> list[Hit]: ...

    @property
    def embedder(self): ...

    @property
    def model(self): ...

    @property
    def verifier(self): ...


@dataclass
class Ask:
    """One question on its way through the stages."""

    question: str
    filters: dict[str, Any]
    query: str = ""
    """What retrieval, quoting and the model read: the question with irrelevant demographic details set
    aside (``vetta.demographics``), or the question itself."""
    events: list[GuardrailEvent] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)


# --- stages -------------------------------------------------------------------------------------------------
def guard_query(parts: Parts, ask: Ask) -> Answer | None:
    hook = get_plugin_manager().hook
    blocked = run_guardrail(ask.events, "query", lambda: hook.guard_query(question=ask.question, domain=parts.domain))
    return withheld(parts, ask, blocked) if blocked else None


def retrieve(parts: Parts, ask: Ask) -> Answer | None:
    started = time.perf_counter()
    ask.hits = parts.find(ask.query, filters=ask.filters)
    ask.timings["retrieve"] = time.perf_counter() - started
    return None if ask.hits else abstain(parts, ask, "no vetted passage matches the question")


def check_relevance(parts: Parts, ask: Ask) -> Answer | None:
    """Abstain when no passage is close enough to the question (the embedder's calibrated floor)."""
    floor = parts.settings.min_similarity
    floor = parts.embedder.similarity_floor if floor is None else floor
    closest = max(hit.scores.get("dense", -1.0) for hit in ask.hits)
    if closest < floor:
        return abstain(parts, ask, f"no vetted passage is close enough to the question ({closest:.2f} < {floor})")
    return None


def guard_passages(parts: Parts, ask: Ask) -> Answer | None:
    hook = get_plugin_manager().hook
    blocked = run_guardrail(ask.events, "passages",
                            lambda: hook.guard_passages(question=ask.question, hits=ask.hits, domain=parts.domain))
    return withheld(parts, ask, blocked) if blocked else None


def quote(parts: Parts, ask: Ask) -> Answer | None:
    """With ``prefer_quotes``: the passages' own sentences, when some answer the question."""
    parts.verifier  # resolved before anything is shown: a bad setting is a config error, not a withholding
    if not parts.settings.prefer_quotes:
        return None
    quoted = select_quotes(ask.query, ask.hits, min_coverage=parts.settings.extractive_min_coverage,
                           similarity=similarity(parts))
    return shown(parts, ask, quoted, extractive=True, rejected=[], model="") if quoted else None


def write(parts: Parts, ask: Ask) -> Answer:
    """The model writes; its sentences are verified and composed; quotes are the fallback (see ``compose``)."""
    settings = parts.settings
    started = time.perf_counter()
    messages = build_messages(ask.query, ask.hits, parts.pack, settings.passage_chars)
    reply = parts.model.generate(messages, settings.max_new_tokens)
    ask.timings["generate"] = time.perf_counter() - started
    started = time.perf_counter()
    try:
        kept, rejected, extractive = composing.compose(
            ask.query, reply, ask.hits, parts.verifier,
            keep_unsupported=settings.keep_unsupported,
            # with prefer_quotes the same quotes were already looked for, and none was found
            extractive_fallback=settings.extractive_fallback and not settings.prefer_quotes,
            extractive_min_coverage=settings.extractive_min_coverage,
            written_min_score=settings.written_min_score,
            similarity=similarity(parts),
        )
    except ModelBusy:  # not a failure of the check: the caller is told to come back (503 under serve)
        raise
    except Exception as error:  # fail closed: an unchecked answer is never shown
        reason = f"withheld: the verifier failed ({type(error).__name__}: {error})"
        ask.events.append(GuardrailEvent("verifier", "block", reason, "verify"))
        return withheld(parts, ask, reason)
    ask.timings["verify"] = time.perf_counter() - started
    if not kept:
        return abstain(parts, ask, "no sentence of the answer is supported by the vetted passages", removed=rejected)
    return shown(parts, ask, kept, extractive=extractive, rejected=rejected, model=parts.model.id)


def answer(parts: Parts, question: str, filters: dict[str, Any] | None = None) -> Answer:
    """The whole path for one question (the module docstring), audited."""
    ask = Ask(question, dict(filters or {}), query=evidence_query(parts, question))
    result = run_stages(parts, ask)
    if parts.settings.bias_check:
        result = bias_check(parts, ask, result)
    result, redaction = redact(parts, result)
    audit(parts, result, redaction)
    return result


def run_stages(parts: Parts, ask: Ask) -> Answer:
    for stage in (guard_query, retrieve, check_relevance, guard_passages, quote):
        result = stage(parts, ask)
        if result is not None:
            return result
    return write(parts, ask)


def evidence_query(parts: Parts, question: str, relevant=None) -> str:
    """The question retrieval, quoting and the model read (``neutral_retrieval``)."""
    if not parts.settings.neutral_retrieval and relevant is None:
        return question
    from ..demographics import neutral

    known = None
    store = getattr(parts, "store", None)
    if store is not None and store.catalog.count_documents():
        known = store.ensure_lexical().knows
    kept = parts.settings.relevant_demographics if relevant is None else relevant
    return neutral(question, kept, known) or question


def bias_check(parts: Parts, ask: Ask, result: Answer) -> Answer:
    """Ask again with every demographic detail set aside; a different verdict or different cited documents
    is flagged beside the answer (and so in the audit log)."""
    neutral_query = evidence_query(parts, ask.question, relevant=())
    if neutral_query == ask.query:
        return result
    other = run_stages(parts, Ask(ask.question, dict(ask.filters), query=neutral_query))
    cited = lambda answer: sorted({c.source for c in answer.citations})  # noqa: E731
    if (other.abstained, cited(other)) == (result.abstained, cited(result)):
        return result
    message = ("this answer depends on a personal detail in the question: without it, the answer "
               + ("would abstain" if other.abstained else f"would cite {', '.join(cited(other)) or 'nothing'}")
               + (" instead of abstaining" if result.abstained else ""))
    return replace(result, events=(*result.events, GuardrailEvent("bias-check", "notice", message, "answer")))


def passages(parts: Parts, query: str, k: int | None = None, filters: dict[str, Any] | None = None) -> list[Hit]:
    """Retrieval for callers who take the passages themselves (``Assistant.retrieve``, the LangChain
    retriever): the same query and passage guardrails, PII redaction and audit log as an ask."""
    ask = Ask(query, dict(filters or {}), query=evidence_query(parts, query))
    result = guard_query(parts, ask)
    if result is None:
        ask.hits = parts.find(ask.query, k=k, filters=ask.filters)
        result = guard_passages(parts, ask) if ask.hits else None
    if result is None:
        result = Answer(question=query, text="", domain=parts.domain, hits=tuple(ask.hits),
                        events=tuple(ask.events), reason="")  # the audit entry says kind "retrieve"
    result, redaction = redact(parts, result)
    audit(parts, result, redaction, kind="retrieve")
    return list(result.hits) if not result.abstained else []


# --- outcomes -----------------------------------------------------------------------------------------------
def shown(parts: Parts, ask: Ask, sentences: list[Sentence], *, extractive: bool, rejected, model: str) -> Answer:
    """An answer of verified sentences: contested ones reported, then past the answer guardrails. ``model``
    is the model that wrote it ("" for quotes, which no model touched)."""
    template = parts.pack.citation_template
    started = time.perf_counter()
    sentences, disputes = contest(sentences, ask.hits, lambda hit: composing.citation_label(hit, template))
    ask.timings["contest"] = time.perf_counter() - started
    ask.events.extend(disputes)
    result = Answer(
        question=ask.question, text=composing.render(sentences), domain=parts.domain,
        citations=tuple(composing.citations_for(sentences, ask.hits, template)), sentences=tuple(sentences),
        model=model, hits=tuple(ask.hits), timings=ask.timings, extractive=extractive, removed=tuple(rejected),
    )
    return guard_answer(parts, ask, result)


def abstain(parts: Parts, ask: Ask, reason: str, removed=()) -> Answer:
    result = Answer(
        question=ask.question, text=parts.pack.refusal, domain=parts.domain, abstained=True, reason=reason,
        hits=tuple(ask.hits), events=tuple(ask.events), timings=ask.timings, removed=tuple(removed),
    )
    return guard_answer(parts, ask, result)


def withheld(parts: Parts, ask: Ask, reason: str) -> Answer:
    return Answer(question=ask.question, text=reason, domain=parts.domain, abstained=True, reason=reason,
                  events=tuple(ask.events), timings=ask.timings)


def guard_answer(parts: Parts, ask: Ask, result: Answer) -> Answer:
    """The answer guardrails have seen: blocks withhold it, removals take sentences out, notices stay."""
    events = ask.events
    if parts.pack.notice:
        events.append(GuardrailEvent(f"{parts.domain}-notice", "notice", parts.pack.notice, "answer"))
    hook = get_plugin_manager().hook
    seen = len(events)
    blocked = run_guardrail(events, "answer", lambda: hook.guard_answer(answer=result, domain=parts.domain))
    if blocked:
        return withheld(parts, ask, blocked)
    removals: dict[int, list[str]] = {}
    for event in events[seen:]:
        if event.action == "remove" and event.sentence is not None and not result.abstained:
            if not 0 <= event.sentence < len(result.sentences):
                return withheld(parts, ask, f"withheld: guardrail {event.guardrail} removed sentence "
                                            f"{event.sentence}, which does not exist")
            removals.setdefault(event.sentence, []).append(f"{event.guardrail}: {event.message}")
    if not removals:
        return replace(result, events=tuple(events))
    kept = [s for number, s in enumerate(result.sentences) if number not in removals]
    taken = [replace(s, verdict="removed", reason="; ".join(removals[number]))
             for number, s in enumerate(result.sentences) if number in removals]
    if not kept:
        reason = "every sentence of the answer was removed by a guardrail: " + "; ".join(
            message for messages in removals.values() for message in messages)
        return replace(withheld(parts, ask, reason), text=parts.pack.refusal, hits=result.hits,
                       removed=tuple(result.removed) + tuple(taken))
    hits = list(result.hits)
    return replace(
        result, text=composing.render(kept), sentences=tuple(kept),
        citations=tuple(composing.citations_for(kept, hits, parts.pack.citation_template)),
        removed=tuple(result.removed) + tuple(taken), events=tuple(events),
    )


def run_guardrail(events: list[GuardrailEvent], stage: str, call: Callable[[], list]) -> str:
    """Run one guardrail hook; a guardrail that raises withholds the answer (fails closed)."""
    try:
        results = call()
    except ModelBusy:  # as in write()
        raise
    except Exception as error:  # fail closed, whatever went wrong
        events.append(GuardrailEvent("error", "block", f"a {stage} guardrail failed: {error}", stage))
        return f"withheld: a {stage} guardrail failed ({type(error).__name__}: {error})"
    for batch in results:
        events.extend(batch or [])
    return "; ".join(event.message for event in events if event.action == "block")


def redact(parts: Parts, result: Answer):
    """PII replaced in all the caller reads (always, every domain); a redactor that raises withholds it."""
    from .. import privacy

    started = time.perf_counter()
    try:
        cleaned, found, redaction = privacy.redact_answer(result, keep=parts.settings.pii_keep)
    except ModelBusy:  # as in write()
        raise
    except Exception as error:  # fail closed: an answer that may show PII is not shown
        reason = f"withheld: the PII redactor failed ({type(error).__name__})"
        events = [*result.events, GuardrailEvent("pii", "block", reason, "answer")]
        return Answer(question=result.question, text=reason, domain=result.domain, abstained=True, reason=reason,
                      events=tuple(events), timings=result.timings), None
    timings = {**result.timings, "redact": time.perf_counter() - started}
    if not found:
        return replace(cleaned, timings=timings), redaction
    counts = ", ".join(f"{number} {kind}" for kind, number in found.items())
    event = GuardrailEvent("pii", "redact", f"personal data replaced by placeholders: {counts}", "answer")
    return replace(cleaned, events=(*cleaned.events, event), timings=timings), redaction


def audit(parts: Parts, result: Answer, redaction, kind: str = "ask") -> None:
    """One line in the audit log per ask; an answer that cannot be logged is not given (AuditError)."""
    from .. import audit as audit_log, privacy

    keep = parts.settings.pii_keep

    def clean(texts: list[str]) -> list[str]:  # the answer's own placeholders where it has them
        if redaction is None:
            return privacy.redact_texts(texts, keep)
        return [redaction.redact(text, keep)[0] for text in texts]

    entry = audit_log.entry_for(result, user=parts.user, groups=parts.groups, redact=clean)
    audit_log.append(parts.home, entry | {"kind": kind})


def similarity(parts: Parts) -> Callable[[str, list[str]], list[float]]:
    """The embedder's cosine of the question with each text, both embedded as questions are (by the query
    runtime that retrieval has already loaded)."""
    import numpy as np

    def cosine(question: str, texts: list[str]) -> list[float]:
        if not texts:
            return []
        query = np.asarray(parts.embedder.embed_query(question), dtype=np.float32)
        matrix = np.asarray(parts.embedder.embed_queries(texts), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
        return [float(v) for v in (matrix @ query) / np.where(norms == 0, 1.0, norms)]

    return cosine
