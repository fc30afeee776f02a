"""The finance pack passes the contract every domain pack passes (vetta.contract)."""

from vetta.contract import DomainPackContract


class TestFinancePack(DomainPackContract):
    domain = "finance"
    question = "What are the main parts of a Form 10-K annual report?"
    answering_file = "form-10-k.md"


def test_answers_carry_the_standing_notice_and_a_citation_naming_the_publisher(fake_assistant, monkeypatch):
    from vetta.plugins import get_registry, reset_plugin_manager

    monkeypatch.delenv("VETTA_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    pack = get_registry().domains["finance"]
    assistant = fake_assistant("finance")
    assistant.ingest_starter()
    answer = assistant.ask("How much does FDIC deposit insurance cover per depositor, per insured bank?")
    assert pack.notice in answer.notices and "not investment, tax or legal advice" in pack.notice
    assert answer.citations[0].label == (
        "FDIC deposit insurance. Federal Deposit Insurance Corporation (FDIC). "
        "https://www.fdic.gov/resources/deposit-insurance/understanding-deposit-insurance"
    )
    abstained = assistant.ask("anything at all", filters={"publisher": "nobody"})
    assert abstained.abstained and pack.notice in abstained.notices


def test_a_filing_citation_names_company_form_item_and_fiscal_period(fake_assistant):
    from pathlib import Path

    assistant = fake_assistant("finance")
    assistant.ingest([Path(__file__).parent / "data" / "acme-10k-2023.htm"], vetted_by="Test Reviewer")
    answer = assistant.ask("What were Acme's net sales in fiscal 2023 according to management's discussion?")
    assert not answer.abstained
    assert answer.citations[0].label.startswith("Acme Widgets, Inc. Form 10-K FY2023: Item 7. Management")
    assert answer.citations[0].label.endswith("SEC EDGAR. FY2023")
