import pytest

from vetta import GuardrailEvent, hookimpl
from vetta.answer import attribute, build_messages, split_sentences
from vetta.domains import DomainPack
from vetta.testing import FakeModel


def test_answer_cites_the_passage_it_used(fake_assistant, corpus):
    assistant = fake_assistant()
    assistant.ingest([corpus], vetted_by="Dr. A. Reviewer", license="CC-BY-4.0")
    answer = assistant.ask("What is the first-line drug for type 2 diabetes?")
    assert not answer.abstained
    assert answer.citations
    first = answer.citations[0]
    assert first.source.endswith("diabetes.md")
    assert first.provenance.vetted_by == "Dr. A. Reviewer"
    assert first.quote and first.quote in (corpus / "diabetes.md").read_text()
    assert answer.text.endswith("[1]")
    assert answer.model == "fake:first-sentence"
    assert {"retrieve", "generate"} <= set(answer.timings)


def test_passages_enter_the_prompt_numbered_and_delimited(fake_assistant, fake_model, corpus):
    assistant = fake_assistant()
    assistant.ingest([corpus])
    assistant.ask("What is the first-line drug for type 2 diabetes?")
    prompt = fake_model.prompts[-1][-1]["content"]
    assert '<passage id="1"' in prompt and "</passage>" in prompt
    assert "Question: What is the first-line drug" in prompt


def test_no_passage_means_no_model_call_and_an_abstention(fake_assistant, fake_model, corpus):
    assistant = fake_assistant()
    assistant.ingest([corpus])
    answer = assistant.ask("anything", filters={"license": "none-such"})
    assert answer.abstained
    assert answer.text == DomainPack("x", "x").refusal
    assert fake_model.prompts == []


def test_citations_to_passages_that_were_not_retrieved_are_dropped(fake_assistant, corpus):
    model = FakeModel(reply="Metformin is first-line for type 2 diabetes [7]. Made-up claim about Mars [9].")
    assistant = fake_assistant(model=model, k=2)
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert all(1 <= c.number <= 2 for c in answer.citations)
    assert "[7]" not in answer.text and "[9]" not in answer.text
    assert "Mars" not in answer.text, "a sentence matching no passage is not shown"


def test_an_unsupported_answer_falls_back_to_quoting_the_passages(fake_assistant, corpus):
    assistant = fake_assistant(model=FakeModel(reply="The moon is made of cheese."))
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert answer.extractive and not answer.abstained
    assert "Metformin is the first-line drug treatment" in answer.text
    assert "# Type 2 diabetes" not in answer.text, "a heading is not an answer"
    assert answer.citations[0].quote in (corpus / "diabetes.md").read_text()
    assert [s.text for s in answer.removed] == ["The moon is made of cheese."]


def test_without_fallback_an_unsupported_answer_is_an_abstention(fake_assistant, corpus):
    assistant = fake_assistant(model=FakeModel(reply="The moon is made of cheese."), extractive_fallback=False)
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert answer.abstained and not answer.citations
    assert answer.hits, "the closest passages are shown with an abstention"


def test_a_question_the_passages_do_not_cover_abstains(fake_assistant, corpus):
    assistant = fake_assistant(model=FakeModel(reply="Paris is the capital of France [1]."))
    assistant.ingest([corpus])
    answer = assistant.ask("What is the capital of France?")
    assert answer.abstained
    assert "Paris" not in answer.text


def test_unsupported_sentences_are_removed_or_marked(fake_assistant, corpus):
    reply = "Metformin is the first-line drug for type 2 diabetes [1]. Avoid metformin when the eGFR is below 45 [1]."
    assistant = fake_assistant(model=FakeModel(reply=reply))
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert "below 45" not in answer.text, "a number the passage does not state is not shown"
    assert [s.verdict for s in answer.sentences] == ["supported"]
    assert answer.sentences[0].score >= 0.6
    assert [s.verdict for s in answer.removed] == ["contradicted"], "45 where the passage says 30"

    marked = fake_assistant(model=FakeModel(reply=reply), keep_unsupported=True).ask("first-line drug for type 2 diabetes")
    assert "below 45. [1] [CONTRADICTED]" in marked.text
    assert [s.verdict for s in marked.sentences] == ["supported", "contradicted"]


def test_citations_quote_the_supporting_text_with_its_span(fake_assistant, corpus):
    assistant = fake_assistant()
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    document = (corpus / "diabetes.md").read_text()
    citation = answer.citations[0]
    assert document[citation.start : citation.end] == citation.quote
    assert citation.quote == answer.sentences[0].evidence
    assert len(citation.sha256) == 64 and citation.chunk_id


class BrokenVerifier:
    @hookimpl
    def register_verifiers(self, register):
        class Broken:
            id = "broken"

            def verify_many(self, pairs):
                raise RuntimeError("verifier crashed")

        register("broken", lambda settings: Broken())


def test_a_verifier_that_raises_withholds_the_answer(fake_assistant, register_plugin, corpus):
    register_plugin(BrokenVerifier())
    assistant = fake_assistant(verifier="broken")
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert answer.abstained and not answer.citations
    assert "verifier failed" in answer.text and "verifier crashed" in answer.text


def test_an_unknown_verifier_is_a_config_error(fake_assistant, corpus):
    from vetta import ConfigError

    assistant = fake_assistant(verifier="nope")
    assistant.ingest([corpus])
    with pytest.raises(ConfigError, match="no verifier 'nope'"):
        assistant.ask("first-line drug for type 2 diabetes")


class Blocker:
    @hookimpl
    def guard_query(self, question, domain):
        return [GuardrailEvent("test-block", "block", "blocked for the test", "query")] if "forbidden" in question else []

    @hookimpl
    def guard_answer(self, answer, domain):
        return [GuardrailEvent("notice", "notice", "not medical advice", "answer")]


class Raiser:
    @hookimpl
    def guard_passages(self, question, hits, domain):
        raise RuntimeError("guardrail crashed")


def test_guardrails_block_and_notice(fake_assistant, register_plugin, corpus):
    register_plugin(Blocker())
    assistant = fake_assistant()
    assistant.ingest([corpus])
    blocked = assistant.ask("a forbidden question about metformin")
    assert blocked.abstained and "blocked for the test" in blocked.text
    fine = assistant.ask("first-line drug for type 2 diabetes")
    assert not fine.abstained
    assert [event.message for event in fine.events] == ["not medical advice"]


def test_a_guardrail_that_raises_withholds_the_answer(fake_assistant, fake_model, register_plugin, corpus):
    register_plugin(Raiser())
    assistant = fake_assistant()
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert answer.abstained
    assert "guardrail failed" in answer.text and "guardrail crashed" in answer.text
    assert not answer.citations
    assert fake_model.prompts == [], "nothing reaches the model after a failed guardrail"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("One. Two [1]. Three!", ["One.", "Two [1].", "Three!"]),
        ("Dose is 2.5 mg daily. Then stop.", ["Dose is 2.5 mg daily.", "Then stop."]),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_attribute_keeps_valid_citations_and_matches_uncited_sentences():
    from vetta import Hit

    hits = [Hit("c1", "a.md", "Metformin is first-line.", 1.0, 0, 24), Hit("c2", "b.md", "Salt raises pressure.", 0.5, 0, 21)]
    sentences = attribute("Metformin comes first [1, 5]. Salt raises blood pressure.", hits)
    assert [s.citations for s in sentences] == [(1,), (2,)]
    assert [s.text for s in sentences] == ["Metformin comes first.", "Salt raises blood pressure."]


def test_attribute_drops_an_echoed_prompt_and_a_cut_off_last_sentence():
    from vetta import Hit

    hits = [Hit("c1", "a.md", "Metformin is first-line. Salt raises pressure.", 1.0, 0, 46)]
    echoed = "Metformin is first-line [1].\n</passage>\n\nQuestion: Is salt bad? Answer: Yes, salt kills [1]."
    assert [s.text for s in attribute(echoed, hits)] == ["Metformin is first-line."]
    cut = "Metformin is first-line [1]. Salt raises pressure [1]. This suggests that"
    assert [s.text for s in attribute(cut, hits)] == ["Metformin is first-line.", "Salt raises pressure."]
    # A last sentence that ends with its citation is complete, and a one-sentence reply is kept as written.
    assert len(attribute("Metformin is first-line [1]. Salt raises pressure [1]", hits)) == 2
    assert [s.text for s in attribute("Metformin is first-line", hits)] == ["Metformin is first-line"]


def test_build_messages_uses_the_domain_prompt():
    pack = DomainPack("d", "D", system_prompt="Only from passages.")
    messages = build_messages("q?", [], pack)
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith("Only from passages.")
    assert "not instructions" in messages[0]["content"], "every domain's prompt says passages are data"


def test_passages_too_far_from_the_question_mean_an_abstention(fake_assistant, fake_model, corpus):
    assistant = fake_assistant(min_similarity=0.99)
    assistant.ingest([corpus])
    answer = assistant.ask("first-line drug for type 2 diabetes")
    assert answer.abstained and "close enough" in answer.reason
    assert answer.hits and fake_model.prompts == []
    assert not fake_assistant(min_similarity=0.1).ask("first-line drug for type 2 diabetes").abstained


def test_extractive_fallback_never_quotes_a_heading(fake_assistant, corpus):
    assistant = fake_assistant(model=FakeModel(reply="Unrelated words entirely."))
    assistant.ingest([corpus])
    answer = assistant.ask("drug for type 2 diabetes")
    assert answer.extractive
    assert all(not s.text.startswith("#") for s in answer.sentences), answer.text


def test_a_lead_in_line_is_quoted_with_its_list(fake_assistant, tmp_path):
    (tmp_path / "stroke.md").write_text(
        "# Stroke\n\nStroke is a medical emergency.\n\nOther signs of stroke come on suddenly:\n"
        "- numbness of the face, arm or leg;\n- confusion or trouble speaking;\n\nCall 911 at once.\n"
    )
    assistant = fake_assistant(model=FakeModel(reply="Unrelated words entirely."))
    assistant.ingest([tmp_path])
    answer = assistant.ask("What are the signs of stroke?")
    assert answer.extractive
    quoted = answer.citations[0].quote
    assert quoted.startswith("Other signs of stroke come on suddenly:") and "confusion or trouble speaking" in quoted
    assert (tmp_path / "stroke.md").read_text()[answer.citations[0].start : answer.citations[0].end] == quoted


def test_evidence_sentences_are_exact_substrings():
    from vetta.verify import evidence_sentences

    text = "Intro line. Second sentence!\nThe list:\n- one item;\n- two item.\n- orphan item here\n"
    sentences = evidence_sentences([text])
    assert sentences == ["Intro line.", "Second sentence!", "The list:\n- one item;\n- two item.\n- orphan item here"]
    assert all(s in text for s in sentences)


@pytest.mark.model
def test_the_shipped_support_verifier_is_selectable(fake_assistant, corpus):
    assistant = fake_assistant(verifier="support")
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug for type 2 diabetes?")
    assert assistant.verifier.id.startswith("support")
    assert not answer.abstained and answer.sentences[0].verdict == "supported"


def test_focus_keeps_the_sentences_closest_to_the_question_verbatim_and_in_order():
    from vetta.answer import focus

    text = ("Asthma is a chronic disease of the airways. Triggers include smoke and pollen. "
            "A reliever inhaler such as salbutamol opens the airways within minutes. "
            "Controller inhalers are taken every day. Metformin treats type 2 diabetes.")
    kept = focus(text, "Which inhaler opens the airways quickly?", budget=120)
    assert "salbutamol opens the airways" in kept and "Metformin" not in kept
    assert len(kept) <= 120
    assert all(part in text for part in kept.split(". "))
    assert focus("Short text.", "anything", budget=500) == "Short text."
    assert focus(text, "zzz", budget=100), "at least one sentence is always kept"


def test_passage_chars_shortens_what_the_model_reads(fake_assistant, fake_model, corpus):
    assistant = fake_assistant(passage_chars=100, k=1)
    assistant.ingest([corpus])
    answer = assistant.ask("When should metformin be avoided for kidney function eGFR?")
    prompt = fake_model.prompts[-1][-1]["content"]
    assert "eGFR is below 30" in prompt and "first-line drug treatment" not in prompt
    assert not answer.abstained


def test_question_framing_words_do_not_count_against_a_quote(fake_assistant, corpus):
    from vetta.answer import extractive_sentences

    assistant = fake_assistant()
    assistant.ingest([corpus])
    question = "Is it really true that metformin is the first-line drug for type 2 diabetes?"
    quoted = extractive_sentences(question, assistant.retrieve(question), min_coverage=0.9)
    assert quoted and quoted[0].text.startswith("Metformin is the first-line drug")


def test_an_answer_about_a_subject_no_passage_mentions_is_unsupported(fake_assistant, corpus):
    reply = "Rabies treatment uses metformin as the first-line drug for type 2 diabetes. [1]"
    assistant = fake_assistant(model=FakeModel(reply), extractive_fallback=False)
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug for rabies?")
    assert answer.abstained
    assert any("no retrieved passage mentions rabi" in s.reason for s in answer.removed)
    fine = fake_assistant(model=FakeModel("Metformin is the first-line drug for type 2 diabetes. [1]"))
    assert not fine.ask("What is the first-line drug for type 2 diabetes?").abstained


def test_a_sentence_about_the_passages_is_no_answer(fake_assistant, corpus):
    reply = ("The passage about diabetes is about metformin as the first-line drug for type 2 diabetes. [1] "
             "The passage states that metformin is the first-line drug for type 2 diabetes. [1]")
    assistant = fake_assistant(model=FakeModel(reply), extractive_fallback=False)
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug for type 2 diabetes?")
    assert [s.text for s in answer.sentences] == [
        "The passage states that metformin is the first-line drug for type 2 diabetes."
    ]
    assert any("describes the passages" in s.reason for s in answer.removed)


def test_a_repeated_sentence_is_shown_once(fake_assistant, corpus):
    line = "Metformin is the first-line drug for type 2 diabetes. [1] "
    assistant = fake_assistant(model=FakeModel(line * 3 + "Metformin is the first-line drug [1]"))
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug for type 2 diabetes?")
    assert len(answer.sentences) == 1 and answer.text.count("Metformin") == 1


def test_a_copied_heading_is_dropped_and_a_made_up_one_rejects_its_sentence(fake_assistant, corpus):
    from vetta.answer import screen, verify_sentences
    from vetta.verify import LexicalVerifier

    assistant = fake_assistant()
    assistant.ingest([corpus])
    hits = assistant.retrieve("first-line drug for type 2 diabetes", k=3)
    # the title of a passage, copied: dropped, and the rest of the sentence is judged on its own
    copied = attribute("# Type 2 diabetes\nMetformin is the first-line drug treatment [1].", hits)
    assert [s.text for s in copied] == ["Metformin is the first-line drug treatment."]
    # a heading no passage has frames the passage's words as something else: never shown
    made_up = attribute("# Warning signs of a stroke\nMetformin is the first-line drug treatment [1].", hits)
    judged = screen("first-line drug", verify_sentences(LexicalVerifier(), made_up, hits), hits)
    assert judged[0].verdict != "supported" and judged[0].text.startswith("# Warning signs of a stroke")


def test_prefer_quotes_answers_from_the_passages_without_calling_the_model(fake_assistant, fake_model, corpus):
    assistant = fake_assistant(prefer_quotes=True)
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug for type 2 diabetes?")
    assert answer.extractive and not answer.abstained and not fake_model.prompts
    assert "Metformin is the first-line drug treatment" in answer.text
    assert all(s.verdict == "supported" and s.text == s.evidence for s in answer.sentences)
    assert answer.citations[0].quote in (corpus / "diabetes.md").read_text()


def test_prefer_quotes_still_asks_the_model_when_no_sentence_answers(fake_assistant, fake_model, corpus):
    # a high coverage bar that no sentence reaches: the model answers, and is verified as usual
    assistant = fake_assistant(prefer_quotes=True, extractive_min_coverage=1.0)
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug for type 2 diabetes in the zebrafish registry?")
    assert fake_model.prompts and not answer.extractive


def test_prefer_quotes_is_the_default():
    from vetta.config import Settings

    assert Settings().prefer_quotes is True


def test_the_lexical_verifier_checks_counts_written_as_words():
    from vetta.verify import LexicalVerifier

    evidence = ["The number of doses depends on the age at the first dose:\n- started before the 15th birthday: "
                "2 doses, given 6 to 12 months apart;\n- started on or after the 15th birthday: 3 doses, with the "
                "second dose 1 to 2 months after the first and the third 6 months after the first."]
    verifier = LexicalVerifier()
    # the healthcare eval's model answer went on to a "fourth" and a "fifth" HPV dose
    assert verifier.verify("The fourth dose is given 6 months after the first dose.", evidence).label == "unsupported"
    assert verifier.verify("Two doses are given 6 to 12 months apart.", evidence).label == "supported"
    assert verifier.verify("The third dose is given 6 months after the first.", evidence).label == "supported"
    # "one" and "first" are not counts ("one of the", "first-line")
    assert verifier.verify("The first dose decides the number of doses.", evidence).label == "supported"


HPV = ("The number of doses depends on the age at the first dose:\n- started before the 15th birthday: 2 doses, "
       "given 6 to 12 months apart;\n- started on or after the 15th birthday: 3 doses.")


def _supported(text, *citations):
    from vetta.types import Sentence

    return Sentence(text=text, citations=citations, verdict="supported", score=1.0)


def test_a_figure_or_name_the_cited_passage_never_states_is_unsupported_whatever_the_verifier():
    """The healthcare eval's model wrote both, and the lexical verifier passed them on shared words: the
    alignment that follows any verifier's verdict catches them."""
    from vetta.answer import verify_sentences
    from vetta.types import Hit
    from vetta.verify import LexicalVerifier

    hits = [Hit("c1", "hpv.md", HPV, 1.0, 0, len(HPV))]
    judged = verify_sentences(LexicalVerifier(), [
        _supported("The doses depend on the age at the first dose, which is 12 through 15 months of age.", 1),
        _supported("The third dose is recommended for people with HIV/AIDS.", 1),
        _supported("Two doses are given 6 to 12 months apart when started before the 15th birthday.", 1),
    ], hits)
    assert [s.verdict for s in judged[:2]] == ["unsupported", "unsupported"] and judged[2].verdict == "supported"
    assert "15" in judged[0].reason


def test_figures_are_read_with_their_units_and_identifiers_are_not_figures():
    from vetta.verify import missing_names, quantities

    assert quantities("4,000 milligrams in 24 hours") == quantities("4000 mg in 24 hrs") == {("4000", "mg"), ("24", "hour")}
    assert quantities("two doses, 6.5 percent") == {("2", "dose"), ("6.5", "%")}
    assert quantities("HIV-1 and caspase-11 protein in 3T3 cells; three typical ORFs") == set()
    evidence = "Chronic kidney disease is checked with the eGFR blood test."
    assert missing_names("Adults with CKD get an eGFR test.", evidence) == set()  # spelled out in the evidence
    assert missing_names("Adults with CKD get an eGFR test from the NIDDK.", evidence) == {"niddk"}


def test_a_sentence_off_the_question_is_unsupported_unless_it_goes_on_from_a_kept_passage():
    from vetta.answer import screen
    from vetta.types import Hit

    pap = "The Pap test looks for cell changes on the cervix. Avoid douching for two days before it."
    fat = "Too much cholesterol raises the risk of heart disease."
    hits = [Hit("c1", "pap.md", pap, 1.0, 0, len(pap)), Hit("c2", "fat.md", fat, 0.5, 0, len(fat))]
    judged = screen("How often should someone in their twenties have a Pap test?", [
        _supported("The Pap test looks for cell changes on the cervix.", 1),
        _supported("It raises the risk of heart disease.", 2),
        _supported("Avoid douching for two days before it.", 1),
    ], hits)
    assert [s.verdict for s in judged] == ["supported", "unsupported", "supported"]
    assert "no word with the question" in judged[1].reason


def test_a_name_or_number_swapped_into_a_passage_sentence_is_caught():
    """The finance eval's model wrote the first claim: every word is in the passage, the FOMC included."""
    from vetta.alignment import align

    passage = ["The FOMC holds eight meetings a year. Congress has given the Federal Reserve a dual mandate: "
               "maximum employment and stable prices. It has 12 voting members: the 7 members of the Board."]

    def kinds(claim):
        return {m.kind for m in align(claim, passage).mismatches}

    assert kinds("Congress has given the FOMC a dual mandate: maximum employment and stable prices.") & {"name", "role"}
    assert kinds("It has 11 voting members: the 7 members of the Board.") & {"number", "role"}
    assert not kinds("Congress has given the Fed a dual mandate: maximum employment and stable prices.")
    assert not kinds("The FOMC has 12 voting members: the 7 members of the Board.")


def test_a_domain_can_ask_more_of_the_models_own_words(fake_assistant, corpus):
    reply = "Metformin is the usual first-line drug for most adults with type 2 diabetes. [1]"
    assistant = fake_assistant(model=FakeModel(reply), extractive_fallback=False)
    assistant.ingest([corpus])
    question = "What is the first-line drug for type 2 diabetes?"
    loose = assistant.ask(question)
    strict = fake_assistant(model=FakeModel(reply), extractive_fallback=False, written_min_score=1.0).ask(question)
    assert not loose.abstained and loose.sentences[0].score < 1.0
    assert strict.abstained and "below this domain's 1.0" in strict.removed[0].reason
