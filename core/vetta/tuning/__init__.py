"""`vetta tune`: the domain's embedder fine-tuned on its own vetted corpus, kept only if it ranks better.

Pairs (a query and the passage that answers it), from the store's own chunks:
- ``title``: a document's title -> its first passage;
- ``sentence``: one sentence of a passage -> the rest of that passage, the sentence cut out (the inverse cloze
  task: the pair shares a topic, not the words), for passages of two sentences or more;
- ``user``: the user's questions with the document that answers them (``--pairs FILE``, JSON lines
  ``{"question": ..., "source": ...}``) -> that document's passage the current embedder ranks first.

A fixed share of the *documents* (by a hash of the source) is held out: none of their pairs is trained on,
and retrieval of their passages among the store's (nDCG@10 over the held-out queries) decides early stopping
and whether the tuned model is kept. Training is sentence-transformers' ``SentenceTransformerTrainer`` with a
ranking loss over in-batch negatives (``MultipleNegativesRankingLoss``; its cached variant with
``mini_batch`` where memory needs it), no duplicate texts in a batch. A run lives in
``VETTA_HOME/tuned/<domain>/<run>/``: ``checkpoints/`` (a rerun of the same run resumes), ``model/`` and its
``README.md`` model card (data, steps, scores). Only a model that beats the current embedder on the held-out
pairs by more than noise (``judge``: a bootstrap lower bound of the per-query gain above zero) is selected
(``selected.json``, read by ``vetta.config``); the store then re-embeds every chunk (``DomainStore.reembed``).
``revert`` goes back to the embedder it was tuned from.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError

SELECTED = "selected.json"
RERANKER = "reranker.json"


@dataclass(frozen=True)
class Pair:
    query: str
    passage: str
    source: str
    kind: str  # title | sentence | user


@dataclass
class TuneReport:
    domain: str
    base: str
    run: str
    pairs: dict[str, int]
    held_out: dict[str, int]
    base_score: dict[str, float]
    tuned_score: dict[str, float]
    steps: int
    seconds: float
    selected: bool
    reembedded: int = 0
    model_path: str = ""
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tuned_folder(home: Path, domain: str) -> Path:
    return home / "tuned" / domain


def selection(home: Path, domain: str) -> dict[str, Any] | None:
    """The tuned embedder selected for ``domain`` (``{"embedder", "base", "run", ...}``), or None."""
    path = tuned_folder(home, domain) / SELECTED
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: unreadable ({error}); remove it or run `vetta tune {domain} --revert`") from error


def reranker_selection(home: Path, domain: str) -> dict[str, Any] | None:
    """The tuned reranker selected for ``domain`` (``{"reranker", "run", ...}``), or None."""
    path = tuned_folder(home, domain) / RERANKER
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: unreadable ({error}); remove it or run `vetta tune {domain} --reranker --revert`") from error


# --- pairs ----------------------------------------------------------------------------------------------
def held_out(source: str, share: float) -> bool:
    """Whether a document is in the held-out part: a fixed hash of its source, the same on every run."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def corpus_pairs(chunks: list[tuple[str, str, str]], titles: dict[str, str], *, seed: int = 0,
                 per_passage: int = 1) -> list[Pair]:
    """Pairs taken from the vetted corpus itself: ``chunks`` are (chunk id, source, text) in store order."""
    from ..text import sentences

    rng = random.Random(seed)
    pairs: list[Pair] = []
    first_seen: set[str] = set()
    for _, source, text in chunks:
        if source not in first_seen:
            first_seen.add(source)
            title = (titles.get(source) or "").strip()
            body = _without_title(text, title)
            if len(title.split()) >= 2 and len(body.split()) >= 8:
                pairs.append(Pair(title, body, source, "title"))
        found = [s for s in sentences(text) if len(s.split()) >= 6]
        if len(found) < 2:
            continue
        for sentence in rng.sample(found, min(per_passage, len(found))):
            rest = text.replace(sentence, " ").strip()
            if len(rest.split()) >= 8:
                pairs.append(Pair(sentence, rest, source, "sentence"))
    return pairs


def _without_title(text: str, title: str) -> str:
    """The passage without the title it opens with (a heading line), so the pair is not a string match."""
    head, _, rest = text.lstrip().partition("\n")
    return rest.strip() if title and title.lower() in head.lower() else text


def read_user_pairs(path: Path) -> list[tuple[str, str]]:
    """``{"question", "source"}`` per line; a clear error naming the line for anything else."""
    out: list[tuple[str, str]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question, source = str(row["question"]).strip(), str(row["source"]).strip()
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError(f'{path}:{number}: expected {{"question": ..., "source": ...}} ({error})') from error
        if question and source:
            out.append((question, source))
    if not out:
        raise ConfigError(f"{path}: no question/source pairs")
    return out


def user_pairs(questions: list[tuple[str, str]], chunks: list[tuple[str, str, str]], embed) -> tuple[list[Pair], list[str]]:
    """Each question with its document's passage the current embedder ranks first; unknown sources listed."""
    import numpy as np

    by_source: dict[str, list[str]] = {}
    for _, source, text in chunks:
        by_source.setdefault(source, []).append(text)
    known = [(q, s) for q, s in questions if s in by_source]
    missing = sorted({s for _, s in questions if s not in by_source})
    if not known:
        return [], missing
    query_vectors = embed([q for q, _ in known])
    pairs = []
    for (question, source), vector in zip(known, query_vectors):
        passages = by_source[source]
        best = passages[0] if len(passages) == 1 else passages[int(np.argmax(embed(passages) @ vector))]
        pairs.append(Pair(question, best, source, "user"))
    return pairs, missing


def evaluator(held: list[Pair], chunks: list[tuple[str, str, str]], *, distractors: int, seed: int):
    """Retrieval of the held-out pairs' passages among them and ``distractors`` other passages of the store."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    corpus: dict[str, str] = {}
    ids: dict[str, str] = {}
    for pair in held:
        ids.setdefault(pair.passage, f"p{len(ids)}")
        corpus[ids[pair.passage]] = pair.passage
    others = [text for _, _, text in chunks if text not in ids]
    for text in random.Random(seed).sample(others, min(distractors, len(others))):
        ids.setdefault(text, f"p{len(ids)}")
        corpus[ids[text]] = text
    queries = {f"q{n}": pair.query for n, pair in enumerate(held)}
    relevant = {f"q{n}": {ids[pair.passage]} for n, pair in enumerate(held)}
    return InformationRetrievalEvaluator(queries, corpus, relevant, name="held", write_csv=False,
                                         accuracy_at_k=[1, 10], precision_recall_at_k=[10], map_at_k=[10])


# --- training -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    epochs: int = 1
    batch_size: int = 32
    learning_rate: float = 2e-5
    held_share: float = 0.1
    max_pairs: int = 20000
    distractors: int = 2000
    mini_batch: int = 0  # >0: CachedMultipleNegativesRankingLoss with this mini-batch (large batches, less memory)
    eval_every: int = 0  # steps between held-out evaluations (0: about 4 per epoch)
    seed: int = 0
    confidence: float = 0.95  # selected only when the held-out gain's lower bound at this level is above 0


def run_name(base: str, pairs: list[Pair], plan: Plan) -> str:
    digest = hashlib.sha256(json.dumps([base, asdict(plan), [(p.query, p.source) for p in pairs]]).encode())
    return "run-" + digest.hexdigest()[:12]


def train(base_path: str, train_pairs: list[Pair], evaluate, folder: Path, plan: Plan,
          progress: bool = True) -> tuple[Any, int]:
    """Fine-tune the model at ``base_path``; returns (the best model by held-out nDCG@10, steps). The caller
    scores it query by query (``judge``)."""
    try:
        from datasets import Dataset
    except ImportError as error:
        raise ConfigError("vetta tune needs the datasets package: pip install 'vetta[tune]'") from error
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer import losses
    from transformers import EarlyStoppingCallback

    from ..models.base import LOADING

    with LOADING:
        model = SentenceTransformer(base_path, device="cpu")
    data = Dataset.from_dict({"anchor": [p.query for p in train_pairs], "positive": [p.passage for p in train_pairs]})
    loss = (losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=plan.mini_batch) if plan.mini_batch
            else losses.MultipleNegativesRankingLoss(model))
    steps_per_epoch = max(1, len(train_pairs) // plan.batch_size)
    every = plan.eval_every or max(10, steps_per_epoch // 4)
    checkpoints = folder / "checkpoints"
    args = SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints), num_train_epochs=plan.epochs, per_device_train_batch_size=plan.batch_size,
        learning_rate=plan.learning_rate, warmup_steps=max(1, int(0.1 * steps_per_epoch * plan.epochs)),
        batch_sampler=BatchSamplers.NO_DUPLICATES, eval_strategy="steps", eval_steps=every,
        save_strategy="steps", save_steps=every, save_total_limit=2, load_best_model_at_end=True,
        metric_for_best_model="eval_held_cosine_ndcg@10", greater_is_better=True, logging_steps=every,
        report_to="none", use_cpu=True, seed=plan.seed, data_seed=plan.seed, disable_tqdm=not progress,
        dataloader_num_workers=0,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss, evaluator=evaluate,
                                         callbacks=[EarlyStoppingCallback(early_stopping_patience=2)])
    if not progress:  # with tqdm off, transformers prints every log line to stdout (--json must be JSON only)
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    resume = checkpoints.exists() and any(checkpoints.glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=True if resume else None)
    return trainer.model, trainer.state.global_step


def model_card(report: TuneReport, plan: Plan) -> str:
    lines = [
        f"# vetta tuned embedder: {report.domain}", "",
        f"Fine-tuned from `{report.base}` by `vetta tune` on {time.strftime('%Y-%m-%d')}.", "",
        "## Data", "",
        "Pairs from the domain's vetted corpus (no text outside it): " + ", ".join(
            f"{n} {kind}" for kind, n in report.pairs.items()) + ".",
        f"Held out (documents by a fixed hash, share {report.extra.get('held_share', plan.held_share):.2f}): " + ", ".join(
            f"{n} {kind}" for kind, n in report.held_out.items()) + f", among {plan.distractors} other passages.", "",
        "## Training", "",
        f"sentence-transformers' trainer, {'Cached' if plan.mini_batch else ''}MultipleNegativesRankingLoss "
        f"(in-batch negatives), batch {plan.batch_size}, learning rate {plan.learning_rate}, up to {plan.epochs} "
        f"epoch(s), early stopping on held-out nDCG@10; {report.steps} steps in {report.seconds:.0f} s on CPU.", "",
        "## Held-out retrieval", "", "| model | nDCG@10 | MRR@10 | recall@10 |", "|---|---|---|---|",
        f"| base `{report.base}` | " + " | ".join(str(report.base_score.get(k, "-")) for k in ("ndcg@10", "mrr@10", "recall@10")) + " |",
        "| tuned | " + " | ".join(str(report.tuned_score.get(k, "-")) for k in ("ndcg@10", "mrr@10", "recall@10")) + " |",
        "", f"Mean per-query nDCG@10 gain {report.extra.get('gain', 0):+.4f}, {plan.confidence:.0%} lower bound "
        f"{report.extra.get('gain_lower_bound', 0):+.4f} (bootstrap over the held-out queries; selection needs it above 0).",
        "", f"Selected: {'yes' if report.selected else 'no'}{(' (' + report.reason + ')') if report.reason else ''}.", "",
        "The model card and weights describe and contain only what was trained on this home's vetted documents;",
        "share them only where those documents may go.",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Collected:
    """What both tunings start from: the store's chunks and the pairs, split into trained and held out."""

    base: str
    chunks: list[tuple[str, str, str]]
    trained: list[Pair]
    held: list[Pair]
    share: float
    missing: list[str]

    def counts(self, part: list[Pair]) -> dict[str, int]:
        return {kind: sum(p.kind == kind for p in part) for kind in ("title", "sentence", "user")}


def collect(assistant, pairs_file: Path | None, plan: Plan, echo: Callable[[str], None]) -> Collected:
    from ..models.base import split_spec

    home, domain = assistant.home, assistant.domain
    current = selection(home, domain)
    base = current["base"] if current else assistant.settings.embedder
    backend, _ = split_spec(base, "st")
    if backend != "st":
        raise ConfigError(f"vetta tune fine-tunes sentence-transformers embedders (st:...); {domain!r} uses {base!r}")
    store = assistant.store
    chunks = store.catalog.all_chunks()
    if not chunks:
        from ..errors import EmptyCorpusError

        raise EmptyCorpusError(f"domain {domain!r} has nothing ingested; run `vetta ingest {domain} ...` first")
    titles = {row["source"]: row.get("title") or "" for row in store.catalog.documents()}
    pairs = corpus_pairs(chunks, titles, seed=plan.seed)
    missing: list[str] = []
    if pairs_file is not None:
        extra, missing = user_pairs(read_user_pairs(pairs_file), chunks, assistant.embedder.embed)
        if missing:
            echo(f"warning: {len(missing)} source(s) in {pairs_file} are not in {domain!r}, e.g. {', '.join(missing[:3])}")
        pairs += extra
    # a small corpus holds out a larger share, so that at least about 20 documents judge the result
    share = max(plan.held_share, min(0.5, 20 / max(1, len(titles))))
    held = capped([p for p in pairs if held_out(p.source, share)], max(50, plan.max_pairs // 10), plan.seed)
    trained = capped([p for p in pairs if not held_out(p.source, share)], plan.max_pairs, plan.seed)
    if len(trained) < plan.batch_size or len(held) < 5:
        raise ConfigError(f"domain {domain!r} gives {len(trained)} training and {len(held)} held-out pairs; "
                          f"too few to tune (ingest more documents or give --pairs)")
    return Collected(base, chunks, trained, held, share, missing)


def capped(pairs: list[Pair], limit: int, seed: int) -> list[Pair]:
    """At most ``limit`` pairs, the user's own questions first (few, and what the domain is asked), then
    corpus pairs drawn at random; shuffled, so a batch mixes both kinds."""
    rng = random.Random(seed)
    users = [p for p in pairs if p.kind == "user"]
    corpus = [p for p in pairs if p.kind != "user"]
    rng.shuffle(users)
    rng.shuffle(corpus)
    chosen = (users + corpus)[:limit]
    rng.shuffle(chosen)
    return chosen


def tune(assistant, *, pairs_file: Path | None = None, plan: Plan = Plan(), progress: bool = True,
         select: bool = True, echo: Callable[[str], None] = lambda line: None) -> TuneReport:
    """Tune ``assistant``'s embedder on its domain's store; select it (and re-embed) only if it wins."""
    from ..models.base import split_spec
    from ..models.sentence_transformers import resolve_model_path
    from .judge import confident_gain, per_query

    home, domain = assistant.home, assistant.domain
    data = collect(assistant, pairs_file, plan, echo)
    base, chunks, trained, held, share, missing = data.base, data.chunks, data.trained, data.held, data.share, data.missing
    _, name = split_spec(base, "st")
    count = data.counts
    run = run_name(base, trained + held, plan)
    folder = tuned_folder(home, domain) / run
    folder.mkdir(parents=True, exist_ok=True)
    evaluate = evaluator(held, chunks, distractors=plan.distractors, seed=plan.seed)
    echo(f"{len(trained)} training pairs, {len(held)} held out; scoring {base} on them")
    from sentence_transformers import SentenceTransformer

    from ..models.base import LOADING

    with LOADING:
        base_model = SentenceTransformer(resolve_model_path(name), device="cpu")
    base_ranks = per_query(base_model, evaluate)
    del base_model
    started = time.perf_counter()
    model, steps = train(resolve_model_path(name), trained, evaluate, folder, plan, progress)
    seconds = time.perf_counter() - started
    tuned_ranks = per_query(model, evaluate)
    gain, low = confident_gain(base_ranks.ndcg, tuned_ranks.ndcg, confidence=plan.confidence, seed=plan.seed)
    better = low > 0
    reason = "" if better else (
        f"it did not beat the current embedder on the held-out pairs by more than noise (nDCG@10 gain {gain:+.4f}, "
        f"{plan.confidence:.0%} lower bound {low:+.4f} over {len(held)} pairs)")
    report = TuneReport(domain=domain, base=base, run=run, pairs=count(trained), held_out=count(held),
                        base_score=base_ranks.summary(), tuned_score=tuned_ranks.summary(), steps=steps,
                        seconds=round(seconds, 1), selected=False, reason=reason,
                        extra={"missing_sources": missing[:20], "held_share": round(share, 3),
                               "gain": round(gain, 4), "gain_lower_bound": round(low, 4)})
    model_path = folder / "model"
    model.save(str(model_path))
    report.model_path = str(model_path)
    if better and select:
        report.selected = True
        report.reembedded = choose(assistant, f"st:{model_path}", base=base, run=run)
    elif better:
        report.reason = "not selected (--no-select)"
    (model_path / "README.md").write_text(model_card(report, plan), encoding="utf-8")
    (folder / "report.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    return report


def choose(assistant, embedder: str, *, base: str, run: str) -> int:
    """Make ``embedder`` the domain's, then re-embed its store; returns the chunks re-embedded. The choice is
    written first: an interrupted re-embed leaves a store that refuses to answer until ``reembed`` runs again
    (``vetta tune DOMAIN --reembed``), never one that mixes two models' vectors."""
    path = tuned_folder(assistant.home, assistant.domain) / SELECTED
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"embedder": embedder, "base": base, "run": run,
                                   "selected_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2) + "\n")
    partial.replace(path)
    return reembed(assistant)


def select_run(assistant, run: str) -> tuple[str, int]:
    """Select a saved run's model by hand (one ``tune`` did not select: a gain within noise, or
    ``--no-select``); returns (its kind, "embedder" or "reranker", and the chunks re-embedded for it)."""
    folder = tuned_folder(assistant.home, assistant.domain) / run
    report_file = folder / "report.json"
    if not (folder / "model").is_dir() or not report_file.exists():
        runs = sorted(p.name for p in tuned_folder(assistant.home, assistant.domain).glob("*-*") if (p / "model").is_dir())
        raise ConfigError(f"{assistant.domain!r} has no tuned model {run!r}"
                          + (f"; saved runs: {', '.join(runs)}" if runs else "; run `vetta tune` first"))
    saved = json.loads(report_file.read_text(encoding="utf-8"))
    if saved.get("extra", {}).get("kind") == "reranker":  # a reranker run: used where rerank = true, nothing to re-embed
        from .reranker import choose_reranker

        choose_reranker(assistant.home, assistant.domain, str(folder / "model"), run=run, scores=saved["tuned_score"])
        return "reranker", 0
    return "embedder", choose(assistant, f"st:{folder / 'model'}", base=saved["base"], run=run)


def revert(assistant) -> tuple[str, int]:
    """Back to the embedder the selected one was tuned from; returns (that embedder, chunks re-embedded)."""
    home, domain = assistant.home, assistant.domain
    current = selection(home, domain)
    if current is None:
        raise ConfigError(f"no tuned embedder is selected for {domain!r}; nothing to revert")
    (tuned_folder(home, domain) / SELECTED).unlink()
    return current["base"], reembed(assistant)


def reembed(assistant) -> int:
    """Re-embed the domain's store with the embedder its settings name now (a fresh Assistant reads them)."""
    from ..api import Assistant

    fresh = Assistant(assistant.domain, home=assistant.home)
    return fresh.store.reembed(fresh.embedder.id, fresh.embedder.embed)
