"""The ``vetta`` command line. The one place where errors become messages for people."""

from __future__ import annotations

import json
import os
import sys
from functools import wraps
from pathlib import Path

import click

from .errors import VettaError


class VettaGroup(click.Group):
    """Turns every ``VettaError`` (and unreadable files) into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except VettaError as error:
            raise click.ClickException(str(error)) from error
        except PermissionError as error:
            raise click.ClickException(f"{error.filename}: permission denied") from error

    def list_commands(self, ctx):
        _register_plugin_commands(self)
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        _register_plugin_commands(self)
        return super().get_command(ctx, name)


_plugin_commands_added = False


def _register_plugin_commands(group: click.Group) -> None:
    global _plugin_commands_added
    if not _plugin_commands_added:
        _plugin_commands_added = True
        from .plugins import get_plugin_manager

        get_plugin_manager().hook.register_commands(cli=group)


def home_option(function):
    @click.option("--home", type=click.Path(file_okay=False), help="State folder (default: $VETTA_HOME).")
    @wraps(function)
    def wrapper(*args, home=None, **kwargs):
        if home:
            os.environ["VETTA_HOME"] = home
        return function(*args, **kwargs)

    return wrapper


def _quiet_libraries() -> None:
    """Model libraries print progress bars and advice on load; the CLI shows its own output only."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import logging

    logging.basicConfig(format="%(message)s", level=logging.WARNING)
    logging.getLogger("vetta").setLevel(logging.INFO)
    for noisy in ("bm25s", "pypdf", "chromadb", "transformers", "sentence_transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


@click.group(cls=VettaGroup)
@click.version_option(package_name="vetta")
def cli():
    """Domain assistants that answer only from vetted documents."""
    _quiet_libraries()


@cli.command()
def domains():
    """List installed domain packs."""
    from .plugins import get_registry

    registry = get_registry()
    for name, pack in sorted(registry.domains.items()):
        owner = registry.owners[("domains", name)]
        click.echo(f"{name}\t{pack.title}\t({owner})")


@cli.command()
def plugins():
    """List loaded plugins and what each registered."""
    from .plugins import get_registry, plugin_names

    registry = get_registry()
    for name in plugin_names():
        provided = sorted(f"{kind[:-1]}:{item}" for (kind, item), owner in registry.owners.items() if owner == name)
        provided += sorted(
            f"loader:{loader.name}" for loader, owner in registry.loaders if owner == name
        )
        click.echo(f"{name}\t{', '.join(provided)}")


@cli.command()
@click.argument("domain")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--starter", is_flag=True, help="Ingest the domain plugin's vetted starter corpus.")
@click.option("--vetted-by", default="", help="Who reviewed these documents.")
@click.option("--vetted-on", default="", help="Review date (default: today, or the stored date).")
@click.option("--license", "license_", default="", help="Licence of the documents, e.g. CC-BY-4.0.")
@click.option("--version", "version_", default="", help="Version of the documents.")
@click.option("--url", default="", help="Where the documents were published.")
@click.option("--group", "groups", multiple=True, help="Access group allowed to see them (repeatable).")
@click.option("--review-by", default="", help="Review-by date (YYYY-MM-DD); past it documents are flagged.")
@click.option("--public", is_flag=True, help="Open these documents to everyone, clearing stored groups.")
@click.option("--sync", is_flag=True, help="Also remove stored files that are gone from the folders given.")
@click.option("--no-wait", is_flag=True, help="Fail at once if another process is writing to this home.")
@home_option
def ingest(domain, paths, starter, vetted_by, vetted_on, license_, version_, url, groups, review_by, public, sync, no_wait):
    """Load, chunk, embed and store documents; unchanged files are skipped."""
    from tqdm import tqdm

    from .api import Assistant

    if not paths and not starter:
        raise click.UsageError("give one or more PATHS, or --starter")
    if public and groups:
        raise click.UsageError("--public and --group contradict each other; give one")
    assistant = Assistant(domain)
    bar = tqdm(unit="file", disable=None, file=sys.stderr, dynamic_ncols=True)
    embedded = 0

    def progress(kind: str, value: int) -> None:
        nonlocal embedded
        if kind == "total":
            bar.reset(total=(bar.total or 0) + value)
        elif kind == "file":
            bar.update(value)
        else:
            embedded += value
            bar.set_postfix(chunks=embedded)

    reports = []
    try:
        if starter:
            reports.append(assistant.ingest_starter(progress=progress, wait=not no_wait))
        if paths:
            reports.append(
                assistant.ingest(
                    paths, vetted_by=vetted_by, vetted_on=vetted_on, license=license_, version=version_,
                    url=url, groups=groups, public=public, review_by=review_by, progress=progress, wait=not no_wait, sync=sync,
                )
            )
    finally:
        bar.close()
    for report in reports:
        for path, problem in report.failures:
            click.echo(f"failed: {path}: {problem}", err=True)
        for source, reasons in report.quarantines:
            click.echo(f"quarantined: {source}: {reasons}", err=True)
        for file in report.removed:
            click.echo(f"removed: {file} (gone from the folder)", err=True)
        click.echo(report.summary())
    if any(report.failed for report in reports):
        sys.exit(2)


@cli.command()
@click.argument("domain")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--quarantined", is_flag=True, help="List documents held back by prompt-injection screening, with why.")
@home_option
def sources(domain, as_json, quarantined):
    """List every document of a domain with its provenance."""
    from .api import Assistant

    if quarantined:  # vetta.quarantine: held out of the indexes until `vetta release`
        held = Assistant(domain, operator=True).quarantined()
        if as_json:
            click.echo(json.dumps(held, indent=2, default=str))
            return
        if not held:
            click.echo(f"no quarantined documents in {domain}")
        for doc in held:
            click.echo(f"{doc['source']}\t{doc['title']}\tsha256:{doc['sha256'][:12]}")
            for reason in doc["reasons"]:
                click.echo(f"    {reason}")
        return
    docs = Assistant(domain, operator=True).sources()
    if as_json:
        click.echo(json.dumps(docs, indent=2, default=str))
        return
    if not docs:
        click.echo(f"no documents in {domain}")
    for doc in docs:
        groups = ",".join(doc["groups"]) or "everyone"
        flags = ("\tPENDING REVIEW" if not doc["vetted_by"] else "") + ("\tOVERDUE for review" if doc["overdue"] else "")
        click.echo(
            f"{doc['source']}\t{doc['title']}\tsha256:{doc['sha256'][:12]}\tvetted by {doc['vetted_by'] or '-'} "
            f"on {doc['vetted_on'] or '-'}\t{doc['license'] or '-'}\tv{doc['version'] or '-'}\t{groups}{flags}"
        )


def _versions_out(versions, as_json: bool, empty: str) -> None:
    if as_json:
        click.echo(json.dumps(versions, indent=2, default=str))
        return
    if not versions:
        click.echo(empty)
    for v in versions:
        served = "served" if v.get("served") else ("serving sha256:" + v["serving"][:12] if v.get("serving") else "not served")
        signed = f"{v['status']} by {v['reviewer']} on {v['decided_on']}" if v["reviewer"] else v["status"]
        click.echo(f"{v['source']}\tsha256:{v['sha256'][:12]}\t{signed}\t{served}" + (f"\t{v['note']}" if v.get("note") else ""))


@cli.command()
@click.argument("domain")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@home_option
def pending(domain, as_json):
    """List document versions no one has signed off, with the version served in their place."""
    from .api import Assistant

    _versions_out(Assistant(domain, operator=True).pending(), as_json, f"nothing pending review in {domain}")


def _decision(function):
    """A reviewer's decision on the newest pending version of SOURCE, printed as that version (audited)."""

    @cli.command(function.__name__, help=function.__doc__)
    @click.argument("domain")
    @click.argument("source")
    @click.option("--reviewer", required=True, help="Who reviewed this version.")
    @click.option("--note", default="", help="What was reviewed, or why it is refused.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @home_option
    def command(domain, source, reviewer, note, as_json):
        from .api import Assistant

        assistant = Assistant(domain, operator=True, user=reviewer)
        _versions_out([getattr(assistant, function.__name__)(source, reviewer=reviewer, note=note)], as_json, "")

    return command


@_decision
def approve():
    """Sign off the newest pending version of SOURCE and serve it (audited)."""


@_decision
def reject():
    """Refuse the newest pending version of SOURCE; the last approved one serves (audited)."""


@cli.command()
@click.argument("domain")
@click.argument("source")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@home_option
def history(domain, source, as_json):
    """Every version of SOURCE: who signed it off and when, which one is served."""
    from .api import Assistant

    _versions_out(Assistant(domain, operator=True).history(source), as_json, "")


@cli.command()
@click.argument("domain")
@click.argument("source")
@home_option
def remove(domain, source):
    """Remove a file (or one document of it) and its chunks from every index."""
    from .api import Assistant

    removed = Assistant(domain).remove(source)
    click.echo(f"removed {source} ({removed} chunks)")


@cli.command()
@click.argument("domain")
@click.argument("source")
@click.option("--reviewer", required=True, help="Who reviewed the document and judged it safe (recorded).")
@home_option
def release(domain, source, reviewer):
    """Index a document that prompt-injection screening quarantined, after a person reviewed it."""
    from .api import Assistant

    chunks = Assistant(domain).release(source, reviewer=reviewer)
    click.echo(f"released {source} ({chunks} chunks), reviewed by {reviewer}")


@cli.command()
@click.argument("domain")
@click.argument("question")
@click.option("--model", default=None, help="backend:model, e.g. transformers:HuggingFaceTB/SmolLM2-360M-Instruct")
@click.option("--model-adapter", default=None, help="A PEFT (LoRA) adapter folder for the model (docs/adapters.md).")
@click.option("-k", type=int, default=None, help="Passages to give the model.")
@click.option("--group", "groups", multiple=True, help="Your access groups (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON.")
@home_option
def ask(domain, question, model, model_adapter, k, groups, as_json):
    """Answer a question from the domain's vetted documents, with sources."""
    from .api import Assistant

    answer = Assistant(domain, model=model, model_adapter=model_adapter, groups=groups or None, k=k).ask(question)
    if as_json:
        click.echo(json.dumps(answer.as_dict(), indent=2, default=str))
        return
    for alert in answer.alerts:
        click.echo(f"!! {alert}")
    click.echo(answer.text)
    if answer.extractive:
        click.echo("(quoted from the sources: the model's own answer could not be verified)")
    if answer.removed and not answer.abstained:
        click.echo(f"({len(answer.removed)} unsupported sentence(s) removed; --json shows them)")
    for notice in answer.notices:
        click.echo(f"Note: {notice}")
    if answer.citations:
        click.echo("\nSources:")
        for cite in answer.citations:
            p = cite.provenance
            click.echo(
                f"  [{cite.number}] {cite.label or cite.title or cite.source} (chars {cite.start}-{cite.end}; "
                f"vetted by {p.vetted_by or '-'} on {p.vetted_on or '-'}; {p.license or 'licence not stated'})"
            )
            click.echo(f"      \"{cite.quote}\"")
    elif answer.abstained and answer.hits:
        click.echo("\nClosest passages:")
        for hit in answer.hits[:3]:
            click.echo(f"  - {hit.title or hit.source} ({hit.source})")


@cli.command()
@click.option("--domain", default=None, help="Only this domain's questions.")
@click.option("--user", default=None, help="Only this user's questions.")
@click.option("--limit", type=int, default=20, show_default=True, help="The latest N entries (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON lines.")
@home_option
def audit(domain, user, limit, as_json):
    """Show the audit log: every question asked, its (PII-redacted) answer, sources and guardrail events."""
    from . import audit as audit_log
    from .home import resolve_home

    found = audit_log.entries(resolve_home(), domain=domain, user=user, limit=limit or None)
    if as_json:
        for entry in found:
            click.echo(json.dumps(entry, ensure_ascii=False, sort_keys=True))
        return
    if not found:
        click.echo("no audited questions" + (f" for domain {domain}" if domain else "") + (f" by {user}" if user else ""))
    for entry in found:
        if entry.get("kind") in ("approve", "reject"):
            click.echo(f"{entry['time']}  {entry['reviewer']}  {entry['domain']}  {entry['kind']}d "
                       f"{entry['source']} sha256:{entry['sha256'][:12]}" + (f"  ({entry['note']})" if entry["note"] else ""))
            continue
        if entry.get("kind") == "request":
            click.echo(f"{entry['time']}  {entry['user']}  {entry.get('domain') or '-'}  {entry['method']} "
                       f"{entry['path']} -> {entry['status']} ({entry['ms']} ms)")
            continue
        outcome = "abstained" if entry["abstained"] else "answered"
        cited = sorted({s["source"] for s in entry["sources"] if s["cited"]})
        click.echo(f"{entry['time']}  {entry['user']}  {entry['domain']}  {outcome}")
        click.echo(f"  Q: {entry['question']}")
        click.echo(f"  A: {entry['answer'] if not entry['abstained'] else entry['reason']}")
        if cited:
            click.echo(f"  sources: {', '.join(cited)}")
        for event in entry["events"]:
            click.echo(f"  {event['action']} ({event['guardrail']}): {event['message']}")


@cli.command("eval")
@click.argument("domain")
@click.option("--set", "eval_set", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An eval set (JSONL) instead of the one the domain ships.")
@click.option("--beir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="A BEIR-format folder (corpus.jsonl, queries.jsonl, qrels/): retrieval nDCG@10, recall@10.")
@click.option("--split", default="test", show_default=True, help="The qrels split of a BEIR folder.")
@click.option("--limit", type=int, default=None, help="Only the first N questions or queries.")
@click.option("--model", default=None, help="backend:model for the answers.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole report, every answer included, as JSON.")
@click.option("--bias", is_flag=True, help="Run the domain's counterfactual pairs (or --set's): consistency where "
              "the answer must not change, difference where it must; per attribute; the corpus's coverage.")
@home_option
def eval_(domain, eval_set, beir, split, limit, model, as_json, bias):
    """Run a domain's eval set (or your own, or a BEIR folder) and check its thresholds.

    The domain's starter corpus and BEIR corpora go to VETTA_HOME/eval/, apart from your documents; reruns
    skip what is already there. --set questions are asked of your own documents. Exit status 1 when a
    threshold (retrieval hit rate 0.9, abstention accuracy 0.9, no wrong or unsupported sentence shown) is
    missed. Sentences are judged without the verifier: against each question's gold-fact and wrong-fact
    patterns, and by being quoted verbatim from what they cite.
    """
    from . import evaluation
    from .api import domain_pack

    pack = domain_pack(domain)
    if bias:
        return _eval_bias(domain, pack, eval_set, limit, model, as_json)
    if beir is not None:
        assistant = evaluation.scratch_assistant(domain, f"beir-{beir.resolve().name}", model=model)
        report = evaluation.run_beir(assistant, beir, split=split, limit=limit)
        click.echo(json.dumps(report, indent=2) if as_json else
                   f"{report['dataset']} ({report['split']}, {report['queries']} queries): "
                   f"nDCG@10 {report['ndcg@10']}, recall@10 {report['recall@10']}, p50 {report['p50_ms']} ms")
        return
    path = eval_set or pack.eval_set
    if path is None:
        raise click.ClickException(f"domain {domain!r} ships no eval set; pass --set questions.jsonl")
    questions = evaluation.read_eval_set(Path(path))[:limit]
    if eval_set is not None:  # your own questions about the documents you ingested
        from .api import Assistant

        assistant = Assistant(domain, model=model)
    else:  # the domain's questions about its starter corpus, kept apart from your documents
        assistant = evaluation.scratch_assistant(domain, f"{domain}-starter", model=model)
        click.echo(f"starter corpus: {assistant.ingest_starter().summary()}", err=True)
    with click.progressbar(length=len(questions), label="asking", file=sys.stderr) as bar:
        report = evaluation.run_eval_set(assistant, questions, progress=lambda *_: bar.update(1))
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        n = report["questions"]
        click.echo(f"{domain}: {n['answerable']} answerable, {n['unanswerable']} unanswerable questions "
                   f"(model {report['model']}, verifier {report['verifier']})")
        for key in ("retrieval_hit_rate", "answered_rate", "fact_accuracy", "keyword_accuracy", "citation_accuracy",
                    "abstention_accuracy", "supported_sentence_rate", "wrong_shown", "unsupported_shown"):
            mark = {True: "  pass", False: "  FAIL"}.get(report["passed"].get(key), "")
            click.echo(f"  {key:<24} {report[key]}{mark}")
    if not all(report["passed"].values()):
        sys.exit(1)


def _eval_bias(domain, pack, eval_set, limit, model, as_json) -> None:
    from . import bias, evaluation

    path = eval_set or bias.counterfactual_path(pack)
    if path is None:
        raise click.ClickException(f"domain {domain!r} ships no counterfactual set; pass --set pairs.jsonl")
    pairs = bias.read_counterfactual_set(Path(path))[:limit]
    if eval_set is not None:  # your own pairs about the documents you ingested
        from .api import Assistant

        assistant = Assistant(domain, model=model)
    else:
        assistant = evaluation.scratch_assistant(domain, f"{domain}-starter", model=model)
        click.echo(f"starter corpus: {assistant.ingest_starter().summary()}", err=True)
    with click.progressbar(length=len(pairs), label="asking", file=sys.stderr) as bar:
        report = bias.run_bias(assistant, pairs, progress=lambda: bar.update(1))
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        click.echo("\n".join(bias.report_lines(report)))
    if not all(report["passed"].values()):
        sys.exit(1)


@cli.command()
@click.argument("domain")
@click.option("--repair", is_flag=True, help="Mend what disagrees (re-embeds only chunks whose vectors are missing).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@home_option
def doctor(domain, repair, as_json):
    """Check that the catalog, the vectors and BM25 agree; exit 1 when something is left to mend."""
    from .api import Assistant

    report = Assistant(domain, operator=True).doctor(repair=repair)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(f"{domain}: {report.documents} documents, {report.files} files, {report.chunks} chunks, "
                   f"{report.vectors} vectors")
        for check, count in report.repaired.items():
            click.echo(f"repaired: {check} ({count})")
        for model in report.models:
            state = "ok" if model["available"] else "MISSING"
            click.echo(f"{model['role']}: {model['spec']}: {state} ({model['how']})")
        for finding in report.findings:
            click.echo(f"problem: {finding.check}: {finding.count} {finding.problem}; e.g. {', '.join(finding.examples[:3])}")
        click.echo("ok" if report.ok else f"run `vetta doctor {domain} --repair` to mend" if not repair else "not all mended")
    if not report.ok:
        sys.exit(1)


from .server.commands import keys, serve  # noqa: E402  (click only; FastAPI loads when serving)

from .tuning.command import tune  # noqa: E402  (click only; training libraries load when a run starts)

cli.add_command(serve)
cli.add_command(keys)
cli.add_command(tune)


def main() -> None:  # pragma: no cover - console script
    cli()


if __name__ == "__main__":  # pragma: no cover - python -m vetta.cli
    main()
