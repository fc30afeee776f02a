"""`vetta tune DOMAIN --reranker`: a cross-encoder trained on the domain's pairs, kept only if it orders better.

The pairs and the held-out documents are the embedder tuning's (``collect``). Each training query gets its
passage as the positive and, as hard negatives, the passages of *other* documents the current retriever
ranks highest for it (``HybridRetriever.rank_ids``): the mistakes a reranker is there to fix. Training is
sentence-transformers' ``CrossEncoderTrainer`` with binary cross-entropy (positives weighted by the number
of negatives), starting from the embedder's own transformer body (a fresh scoring head) or ``--from`` a
cross-encoder where one is at hand. Held-out queries judge it: each one's passage among the
``rerank_candidates - 1`` other-document passages the retriever proposes, in the current embedder's order
(the base) and reordered by the cross-encoder; nDCG@10 of both decides early stopping and selection
(``reranker.json``, read by ``vetta.config``), and the time it takes per query is reported, because a
reranker has to pay for its latency. ``rerank = true`` in the settings turns it on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError
from . import RERANKER, Collected, Pair, Plan, TuneReport, collect, run_name, tuned_folder


@dataclass(frozen=True)
class RerankPlan:
    negatives: int = 3  # hard negatives per training query
    candidates: int = 20  # passages per held-out query (its own and the retriever's others)
    max_length: int = 256  # tokens of question + passage the cross-encoder reads
    start: str = ""  # a CrossEncoder folder or hub id to start from; "" = the embedder's body
    held_queries: int = 100  # held-out queries that judge it


def mine(assistant, pairs: list[Pair], texts: dict[str, tuple[str, str]], n: int) -> list[list[str]]:
    """For each pair, the passages of other documents the current retriever ranks best, best first."""
    retriever = assistant.retriever
    out = []
    for pair in pairs:
        ids = retriever.rank_ids(pair.query, n + 8)
        out.append([texts[i][1] for i in ids if i in texts and texts[i][0] != pair.source
                    and texts[i][1] != pair.passage][:n])
    return out


def samples(assistant, held: list[Pair], negatives: list[list[str]]) -> list[dict[str, Any]]:
    """Held-out queries for ``CrossEncoderRerankingEvaluator``: candidates in the current embedder's order."""
    import numpy as np

    embed = assistant.embedder
    unique = sorted({text for pair, others in zip(held, negatives) for text in [pair.passage, *others]})
    vectors = dict(zip(unique, embed.embed(unique)))
    out = []
    for pair, others in zip(held, negatives):
        documents = [pair.passage, *others]
        query = embed.embed_query(pair.query)
        similarity = np.array([float(vectors[d] @ query) for d in documents])
        order = np.argsort(-similarity, kind="stable")
        out.append({"query": pair.query, "positive": [pair.passage], "documents": [documents[i] for i in order]})
    return out


def train(start: str, rows: dict[str, list], evaluate, folder: Path, plan: Plan, rerank: RerankPlan,
          progress: bool) -> tuple[Any, int]:
    try:
        from datasets import Dataset
    except ImportError as error:
        raise ConfigError("vetta tune needs the datasets package: pip install 'vetta[tune]'") from error
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss
    from transformers import EarlyStoppingCallback

    from ..models.base import LOADING

    try:
        with LOADING:
            model = CrossEncoder(start, num_labels=1, max_length=rerank.max_length, device="cpu")
    except OSError as error:
        raise ConfigError(f"cannot load {start!r} to start the reranker from: {error}") from error
    loss = BinaryCrossEntropyLoss(model, pos_weight=torch.tensor(float(rerank.negatives)))
    steps_per_epoch = max(1, len(rows["label"]) // plan.batch_size)
    every = plan.eval_every or max(10, steps_per_epoch // 4)
    checkpoints = folder / "checkpoints"
    args = CrossEncoderTrainingArguments(
        output_dir=str(checkpoints), num_train_epochs=plan.epochs, per_device_train_batch_size=plan.batch_size,
        learning_rate=plan.learning_rate, warmup_steps=max(1, int(0.1 * steps_per_epoch * plan.epochs)),
        eval_strategy="steps", eval_steps=every, save_strategy="steps", save_steps=every, save_total_limit=2,
        load_best_model_at_end=True, metric_for_best_model="eval_held_ndcg@10", greater_is_better=True,
        logging_steps=every, report_to="none", use_cpu=True, seed=plan.seed, data_seed=plan.seed,
        disable_tqdm=not progress, dataloader_num_workers=0,
    )
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=Dataset.from_dict(rows), loss=loss,
                                  evaluator=evaluate, callbacks=[EarlyStoppingCallback(early_stopping_patience=2)])
    if not progress:
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)
    resume = checkpoints.exists() and any(checkpoints.glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=True if resume else None)
    return trainer.model, trainer.state.global_step  # the caller scores the kept model query by query


def latency_ms(model, held_samples: list[dict[str, Any]], limit: int = 20) -> float:
    """Mean milliseconds to score one held-out query's candidates (what ``rerank = true`` adds per query)."""
    chosen = held_samples[:limit]
    started = time.perf_counter()
    for sample in chosen:
        model.predict([(sample["query"], d) for d in sample["documents"]], show_progress_bar=False)
    return round(1000 * (time.perf_counter() - started) / max(1, len(chosen)), 1)


def tune_reranker(assistant, *, pairs_file: Path | None = None, plan: Plan = Plan(), rerank: RerankPlan = RerankPlan(),
                  progress: bool = True, select: bool = True, echo: Callable[[str], None] = lambda line: None) -> TuneReport:
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

    from ..models.base import split_spec
    from ..models.sentence_transformers import resolve_model_path
    from .judge import at_rank, confident_gain, rank_summary, reranked

    data: Collected = collect(assistant, pairs_file, plan, echo)
    home, domain = assistant.home, assistant.domain
    start = rerank.start or resolve_model_path(split_spec(data.base, "st")[1])
    texts = {chunk_id: (source, text) for chunk_id, source, text in data.chunks}
    echo(f"mining hard negatives for {len(data.trained)} training and {len(data.held)} held-out queries")
    negatives = mine(assistant, data.trained, texts, rerank.negatives)
    rows: dict[str, list] = {"query": [], "passage": [], "label": []}
    for pair, others in zip(data.trained, negatives):
        for text, label in [(pair.passage, 1.0)] + [(other, 0.0) for other in others]:
            rows["query"].append(pair.query)
            rows["passage"].append(text)
            rows["label"].append(label)
    held = data.held[:rerank.held_queries]  # each costs `candidates` cross-encoder calls per evaluation
    held_samples = samples(assistant, held, mine(assistant, held, texts, rerank.candidates - 1))
    evaluate = CrossEncoderRerankingEvaluator(held_samples, at_k=10, always_rerank_positives=False, name="held",
                                              write_csv=False, batch_size=64)
    run = "rerank-" + run_name(start, data.trained + held, plan)[4:]
    folder = tuned_folder(home, domain) / run
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    model, steps = train(start, rows, evaluate, folder, plan, rerank, progress)
    seconds = time.perf_counter() - started
    base_ranks, tuned_ranks = reranked(model, held_samples)
    base_score, tuned_score = rank_summary(base_ranks), rank_summary(tuned_ranks)
    gain, low = confident_gain(at_rank(base_ranks).ndcg, at_rank(tuned_ranks).ndcg, confidence=plan.confidence,
                               seed=plan.seed)
    better = low > 0
    reason = "" if better else (
        f"it did not order the held-out candidates better than the current embedder by more than noise "
        f"(nDCG@10 gain {gain:+.4f}, {plan.confidence:.0%} lower bound {low:+.4f} over {len(held_samples)} queries)")
    report = TuneReport(
        domain=domain, base=start, run=run, pairs=data.counts(data.trained), held_out=data.counts(held),
        base_score=base_score, tuned_score=tuned_score, steps=steps, seconds=round(seconds, 1), selected=False,
        reason=reason,
        extra={"kind": "reranker", "held_share": round(data.share, 3), "negatives": rerank.negatives,
               "candidates": rerank.candidates, "rows": len(rows["label"]),
               "gain": round(gain, 4), "gain_lower_bound": round(low, 4),
               "rerank_ms_per_query": latency_ms(model, held_samples), "missing_sources": data.missing[:20]},
    )
    model_path = folder / "model"
    model.save(str(model_path))
    report.model_path = str(model_path)
    if better and select:
        report.selected = True
        choose_reranker(home, domain, str(model_path), run=run, scores=tuned_score)
    elif better:
        report.reason = "not selected (--no-select)"
    (model_path / "README.md").write_text(card(report, plan), encoding="utf-8")
    (folder / "report.json").write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
    return report


def choose_reranker(home: Path, domain: str, path: str, *, run: str, scores: dict[str, float]) -> None:
    target = tuned_folder(home, domain) / RERANKER
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps({"reranker": path, "run": run, "held_out": scores,
                                   "selected_at": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=2) + "\n")
    partial.replace(target)


def revert_reranker(home: Path, domain: str) -> bool:
    target = tuned_folder(home, domain) / RERANKER
    if not target.exists():
        raise ConfigError(f"no tuned reranker is selected for {domain!r}; nothing to revert")
    target.unlink()
    return True


def card(report: TuneReport, plan: Plan) -> str:
    extra = report.extra
    lines = [
        f"# vetta tuned reranker: {report.domain}", "",
        f"A cross-encoder trained from `{report.base}` by `vetta tune --reranker` on {time.strftime('%Y-%m-%d')}.", "",
        "## Data", "",
        "Queries and passages from the domain's vetted corpus: " + ", ".join(
            f"{n} {kind}" for kind, n in report.pairs.items()) + f"; each with its passage and {extra['negatives']} "
        f"hard negatives (other documents' passages the retriever ranked highest): {extra['rows']} rows.",
        "Held out (documents by a fixed hash): " + ", ".join(f"{n} {kind}" for kind, n in report.held_out.items())
        + f"; each query's passage among {extra['candidates'] - 1} retrieved others.", "",
        "## Training", "",
        f"sentence-transformers' CrossEncoderTrainer, BinaryCrossEntropyLoss, batch {plan.batch_size}, learning rate "
        f"{plan.learning_rate}, up to {plan.epochs} epoch(s), early stopping on held-out nDCG@10; {report.steps} "
        f"steps in {report.seconds:.0f} s on CPU.", "",
        "## Held-out ordering", "", "| order | nDCG@10 | MRR@10 | MAP |", "|---|---|---|---|",
        "| current embedder | " + " | ".join(str(report.base_score.get(k, "-")) for k in ("ndcg@10", "mrr@10", "map")) + " |",
        "| reranked | " + " | ".join(str(report.tuned_score.get(k, "-")) for k in ("ndcg@10", "mrr@10", "map")) + " |",
        "", f"Mean per-query nDCG@10 gain {extra.get('gain', 0):+.4f}, {plan.confidence:.0%} lower bound "
        f"{extra.get('gain_lower_bound', 0):+.4f} (bootstrap over the held-out queries; selection needs it above 0).",
        "", f"Reranking {extra['candidates']} candidates took {extra['rerank_ms_per_query']} ms per query here.",
        f"Selected: {'yes' if report.selected else 'no'}{(' (' + report.reason + ')') if report.reason else ''}.", "",
        "Trained only on this home's vetted documents; share it only where those documents may go.",
    ]
    return "\n".join(lines) + "\n"
