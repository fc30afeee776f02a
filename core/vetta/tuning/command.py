"""``vetta tune``: click only here; torch, datasets and sentence-transformers load when a run starts."""

from __future__ import annotations

import json
from pathlib import Path

import click


def _home_option(function):
    from ..cli import home_option

    return home_option(function)


@click.command()
@click.argument("domain")
@click.option("--pairs", "pairs_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='Your own questions, JSON lines {"question": ..., "source": ...} (source as `vetta sources` lists it).')
@click.option("--epochs", type=click.IntRange(1, 50), default=1, show_default=True)
@click.option("--batch-size", type=click.IntRange(2, 4096), default=32, show_default=True,
              help="Pairs per batch: each pair's passage is a negative for the others.")
@click.option("--mini-batch", type=click.IntRange(0, 4096), default=0,
              help="With large batches: the cached loss, this many pairs in memory at once.")
@click.option("--max-pairs", type=click.IntRange(10), default=20000, show_default=True)
@click.option("--learning-rate", type=float, default=2e-5, show_default=True)
@click.option("--reranker", is_flag=True, help="Train a cross-encoder reranker instead (used where rerank = true).")
@click.option("--from", "start", default="", help="--reranker: a CrossEncoder folder or hub id to start from "
              "(default: the embedder's own body with a new head).")
@click.option("--negatives", type=click.IntRange(1, 50), default=3, show_default=True,
              help="--reranker: hard negatives per query, from the current retriever.")
@click.option("--no-select", is_flag=True, help="Train and score only; keep the current embedder.")
@click.option("--select", "select_run", metavar="RUN", default="",
              help="Select a saved run's model (run-... in the report) even though tune did not, and re-embed.")
@click.option("--revert", is_flag=True, help="Go back to the embedder the selected one was tuned from.")
@click.option("--reembed", is_flag=True, help="Re-embed the store with the domain's embedder (finishes an interrupted re-embed).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_home_option
def tune(domain, pairs_file, epochs, batch_size, mini_batch, max_pairs, learning_rate, reranker, start, negatives,
         no_select, select_run, revert, reembed, as_json):
    """Fine-tune DOMAIN's embedder on pairs from its vetted documents (and your --pairs), keep it only if it
    retrieves the held-out pairs better, and re-embed the store with it. With --reranker, train a
    cross-encoder that reorders the retriever's candidates, kept only if it orders the held-out ones better."""
    from ..api import Assistant
    from . import Plan, reembed as reembed_store, revert as revert_tuning, select_run as select_saved, tune as run

    assistant = Assistant(domain)
    if reranker and revert:
        from .reranker import revert_reranker

        revert_reranker(assistant.home, domain)
        click.echo(f"{domain}: no tuned reranker selected now (rerank = true then needs the reranker setting)")
        return
    if revert:
        base, count = revert_tuning(assistant)
        click.echo(f"{domain}: back to {base}; {count} chunks re-embedded")
        return
    if select_run:
        kind, count = select_saved(assistant, select_run)
        click.echo(f"{domain}: {select_run} selected; " + ("set rerank = true to use it" if kind == "reranker"
                                                            else f"{count} chunks re-embedded"))
        return
    if reembed:
        count = reembed_store(assistant)
        click.echo(f"{domain}: {count} chunks re-embedded with {Assistant(domain).settings.embedder}")
        return
    plan = Plan(epochs=epochs, batch_size=batch_size, mini_batch=mini_batch, max_pairs=max_pairs,
                learning_rate=learning_rate)
    echo = lambda line: click.echo(line, err=True)  # noqa: E731
    if reranker:
        from .reranker import RerankPlan, tune_reranker

        report = tune_reranker(assistant, pairs_file=pairs_file, plan=plan, progress=not as_json,
                               select=not no_select, echo=echo,
                               rerank=RerankPlan(negatives=negatives, candidates=assistant.settings.rerank_candidates,
                                                 start=start))
    else:
        report = run(assistant, pairs_file=pairs_file, plan=plan, progress=not as_json, select=not no_select, echo=echo)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    for name, score in (("current", report.base_score), ("reranked" if reranker else "tuned", report.tuned_score)):
        third = "map" if reranker else "recall@10"
        click.echo(f"{name:>8}: nDCG@10 {score.get('ndcg@10')}  MRR@10 {score.get('mrr@10')}  {third} {score.get(third)}")
    click.echo(f"{report.steps} steps in {report.seconds:.0f} s; model and card: {report.model_path}")
    if reranker:
        click.echo(f"reranking {report.extra['candidates']} candidates: {report.extra['rerank_ms_per_query']} ms per query")
        click.echo("selected; set rerank = true to use it" if report.selected else f"not selected: {report.reason}")
        return
    click.echo(f"selected; {report.reembedded} chunks re-embedded" if report.selected else f"not selected: {report.reason}")
