"""Access control: a caller never retrieves, cites or quotes a document outside their groups.

Two users with overlapping corpora: alice (oncology) and bob (cardiology), public documents both see, and one
document shared by both groups. Every document talks about the same treatment plan, so each would be
retrieved for the same question if access let it; each restricted one carries a secret word to look for.
"""

import json
import re

import pytest

from vetta.models.base import Model

DOCUMENTS = {
    "public.md": ([], "PUBLICWORD", "Public guidance on the treatment plan: review the treatment plan every month."),
    "oncology.md": (["oncology"], "ONCOSECRET", "Oncology treatment plan: chemotherapy cycles follow the treatment plan."),
    "cardiology.md": (["cardiology"], "CARDIOSECRET", "Cardiology treatment plan: beta blockers follow the treatment plan."),
    "shared.md": (["cardiology", "oncology"], "SHAREDWORD", "Shared treatment plan for cardio-oncology: the treatment plan is joint."),
}
SEES = {
    "alice": {"public.md", "oncology.md", "shared.md"},
    "bob": {"public.md", "cardiology.md", "shared.md"},
    None: {"public.md"},
}
GROUPS = {"alice": ["oncology"], "bob": ["cardiology"], None: None}
QUESTION = "What does the treatment plan say?"


class CiteEverything(Model):
    """Quotes the first sentence of every passage it is given, citing each."""

    id = "fake:cite-all"

    def __init__(self, reply=None):
        self.reply = reply
        self.prompts = []

    def generate(self, messages, max_new_tokens=160):
        self.prompts.append(messages)
        if self.reply is not None:
            return self.reply
        passages = re.findall(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', messages[-1]["content"], re.S)
        return " ".join(f"{text.split(': ', 1)[-1]} [{n}]" for n, text in passages)


def secrets_outside(user):
    return [DOCUMENTS[name][1] for name in DOCUMENTS if name not in SEES[user]]


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, (groups, secret, text) in DOCUMENTS.items():
        (folder / name).write_text(f"# {name}\n\n{text} Treatment plan marker {secret}.\n")
    (folder / "provenance.json").write_text(json.dumps({name: {"groups": groups} for name, (groups, _, _) in DOCUMENTS.items()}))
    return folder


@pytest.fixture
def make(fake_assistant, corpus):
    fake_assistant().ingest([corpus], base=corpus)

    def build(user, **kwargs):
        kwargs.setdefault("model", CiteEverything())
        return fake_assistant(user=user, groups=GROUPS[user], **kwargs)

    return build


def assert_unseen(user, *texts):
    for secret in secrets_outside(user):
        for text in texts:
            assert secret not in text, f"{user} saw {secret}"


@pytest.mark.parametrize("user", ["alice", "bob", None])
def test_retrieve_returns_only_what_the_caller_may_see(make, user):
    hits = make(user).retrieve(QUESTION, k=20)
    assert {hit.source for hit in hits} == SEES[user]
    assert_unseen(user, *(hit.text for hit in hits))


@pytest.mark.parametrize("user", ["alice", "bob", None])
def test_ask_cites_and_quotes_only_what_the_caller_may_see(make, user):
    assistant = make(user, k=10)
    answer = assistant.ask(QUESTION)
    assert not answer.abstained
    assert {citation.source for citation in answer.citations} == SEES[user], "the model cited every passage"
    assert_unseen(user, answer.text, *(c.quote for c in answer.citations), *(h.text for h in answer.hits))
    assert_unseen(user, *(message["content"] for prompt in assistant.model.prompts for message in prompt))


@pytest.mark.parametrize("user", ["alice", "bob", None])
def test_filters_naming_a_forbidden_source_find_nothing_of_it(make, user):
    assistant = make(user, k=10)
    for forbidden in set(DOCUMENTS) - SEES[user]:
        assert assistant.retrieve(QUESTION, filters={"source": forbidden}) == []
        mixed = assistant.retrieve(QUESTION, filters={"source": [forbidden, "public.md"]})
        assert {hit.source for hit in mixed} == {"public.md"}
        answer = assistant.ask(QUESTION, filters={"source": forbidden})
        assert answer.abstained and not answer.citations and not answer.hits
        assert_unseen(user, answer.text)
    for sneaky in ({"public": True}, {"groups": "oncology"}, {"title": {"$ne": "x"}}, {"file": list(DOCUMENTS)}):
        hits = assistant.retrieve(QUESTION, filters=sneaky)
        assert {hit.source for hit in hits} <= SEES[user], sneaky


@pytest.mark.parametrize("user", ["alice", "bob", None])
def test_the_langchain_retriever_sees_only_what_the_caller_may_see(make, user):
    assistant = make(user)
    documents = assistant.as_langchain_retriever(k=20).invoke(QUESTION)
    assert {doc.metadata["source"] for doc in documents} == SEES[user]
    assert_unseen(user, *(doc.page_content for doc in documents))
    for forbidden in set(DOCUMENTS) - SEES[user]:
        assert assistant.as_langchain_retriever(k=20, filters={"source": forbidden}).invoke(QUESTION) == []


@pytest.mark.parametrize("user", ["alice", "bob", None])
def test_the_extractive_fallback_quotes_only_what_the_caller_may_see(make, user):
    assistant = make(user, k=10, model=CiteEverything(reply="I could not say."))
    answer = assistant.ask(QUESTION)
    assert answer.extractive and answer.citations
    assert {citation.source for citation in answer.citations} <= SEES[user]
    assert_unseen(user, answer.text, *(c.quote for c in answer.citations))


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_a_users_listings_hold_only_what_they_may_see(make, user):
    assert {doc["source"] for doc in make(user).sources()} == SEES[user]


def test_a_document_moved_out_of_a_group_is_no_longer_seen_by_it(make, fake_assistant, corpus):
    """Chroma merges metadata on update, so the old group's key stays on the vectors: the catalog decides."""
    manifest = json.loads((corpus / "provenance.json").read_text())
    manifest["shared.md"]["groups"] = ["cardiology"]
    (corpus / "provenance.json").write_text(json.dumps(manifest))
    report = fake_assistant().ingest([corpus], base=corpus)
    assert report.updated == 1 and report.chunks_embedded == 0, "same text: vectors kept, metadata updated"
    alice = make("alice")
    assert "shared.md" not in {hit.source for hit in alice.retrieve(QUESTION, k=20)}
    assert "SHAREDWORD" not in alice.ask(QUESTION).text
    assert "shared.md" in {hit.source for hit in make("bob").retrieve(QUESTION, k=20)}
