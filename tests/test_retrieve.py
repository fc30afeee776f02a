import math

import pytest

from vetta import EmptyCorpusError, Hit
from vetta.config import Settings
from vetta.retrieve import chroma_where, fuse


def test_hybrid_retrieval_ranks_the_matching_document_first(fake_assistant, corpus):
    assistant = fake_assistant()
    assistant.ingest([corpus], vetted_by="Dr. A. Reviewer")
    hits = assistant.retrieve("Which drugs are first-line for hypertension?", k=2)
    assert isinstance(hits[0], Hit)
    assert hits[0].source.endswith("hypertension.txt")
    assert hits[0].provenance.vetted_by == "Dr. A. Reviewer"
    assert hits[0].text == (corpus / "hypertension.txt").read_text()[hits[0].start : hits[0].end]
    assert set(hits[0].scores) <= {"bm25", "dense"}
    assert hits[0].score >= hits[1].score


def test_filters_apply_to_any_document_field(fake_assistant, corpus):
    assistant = fake_assistant()
    assistant.ingest([corpus / "diabetes.md"], license="CC-BY-4.0")
    assistant.ingest([corpus / "hypertension.txt", corpus / "nested"], license="CC0")
    hits = assistant.retrieve("first-line drugs", k=5, filters={"license": "CC-BY-4.0"})
    assert hits and all(hit.provenance.license == "CC-BY-4.0" for hit in hits)
    hits = assistant.retrieve("first-line drugs", k=5, filters={"source": [hits[0].source]})
    assert {hit.source for hit in hits} == {hits[0].source}
    assert assistant.retrieve("first-line drugs", filters={"license": "nothing-like-this"}) == []


def test_filters_on_loader_metadata(fake_assistant, tmp_path):
    import json

    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(
        json.dumps({"_id": str(i), "title": "t", "text": "shared words here", "metadata": {"year": 2000 + i}})
        + "\n" for i in range(4)
    ))
    assistant = fake_assistant()
    assistant.ingest([corpus])
    hits = assistant.retrieve("shared words", k=5, filters={"year": 2002})
    assert [hit.metadata["year"] for hit in hits] == [2002]


def test_access_groups_are_respected_by_both_retrievers(fake_assistant, vetta_home, corpus, tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "oncology.txt").write_text("Oncology protocol: metformin trial for tumour growth.")
    admin = fake_assistant()
    admin.ingest([corpus])
    admin.ingest([secret], groups=["oncology"])

    public = fake_assistant()
    assert all("Oncology" not in hit.text for hit in public.retrieve("oncology metformin tumour", k=10))

    other = fake_assistant(groups=["cardiology"])
    assert all("Oncology" not in hit.text for hit in other.retrieve("oncology metformin tumour", k=10))

    member = fake_assistant(groups=["oncology"])
    hits = member.retrieve("oncology metformin tumour", k=10)
    assert hits[0].source.endswith("oncology.txt")
    assert any(hit.source.endswith("diabetes.md") for hit in hits), "public documents stay visible"


def test_empty_domain_is_a_clear_error(fake_assistant):
    with pytest.raises(EmptyCorpusError, match="vetta ingest general"):
        fake_assistant().retrieve("anything")


def test_convex_fusion_weights_and_rrf():
    lexical = [("a", 10.0), ("b", 5.0), ("c", 0.0)]
    dense = [("b", 0.9), ("c", 0.5), ("a", 0.1)]
    only_dense = fuse(lexical, dense, Settings(fusion="convex", dense_weight=1.0))
    assert [chunk_id for chunk_id, _, _ in only_dense][:2] == ["b", "c"]
    only_lexical = fuse(lexical, dense, Settings(fusion="convex", dense_weight=0.0))
    assert only_lexical[0][0] == "a"
    rrf = fuse(lexical, dense, Settings(fusion="rrf"))
    assert rrf[0][0] == "b"  # ranked 2nd and 1st beats 1st and 3rd
    assert rrf[0][2] == {"bm25": 5.0, "dense": 0.9}


def test_chroma_where_clauses():
    assert chroma_where({}, None, restricted=False) is None
    assert chroma_where({}, None, restricted=True) == {"public": True}
    assert chroma_where({"license": ["a", "b"]}, ("x",), restricted=True) == {
        "$and": [{"license": {"$in": ["a", "b"]}}, {"$or": [{"public": True}, {"group:x": True}]}]
    }


def test_langchain_retriever(fake_assistant, corpus):
    from langchain_core.retrievers import BaseRetriever

    assistant = fake_assistant()
    assistant.ingest([corpus], vetted_by="Dr. A. Reviewer")
    retriever = assistant.as_langchain_retriever(k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("salbutamol reliever inhaler")
    assert len(docs) == 2
    assert docs[0].metadata["source"].endswith("asthma.html")
    assert docs[0].metadata["vetted_by"] == "Dr. A. Reviewer"
    assert "salbutamol" in docs[0].page_content


def test_ndcg_and_recall():
    from vetta.evaluation import ndcg_at_k, recall_at_k, unique_in_order

    assert ndcg_at_k(["a", "b"], {"a": 1}) == 1.0
    assert abs(ndcg_at_k(["x", "a"], {"a": 1}) - 1 / math.log2(3)) < 1e-9
    assert ndcg_at_k(["x"], {"a": 1}) == 0.0
    assert recall_at_k(["a", "x"], {"a": 1, "b": 1}) == 0.5
    assert unique_in_order(["a", "b", "a", "c"]) == ["a", "b", "c"]
