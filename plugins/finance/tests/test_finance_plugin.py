"""The finance pack passes the contract every domain pack passes (vetta.contract)."""

from vetta.contract import DomainPackContract


class TestFinancePack(DomainPackContract):
    domain = "finance"
    question = "What are the main parts of a Form 10-K annual report?"
    answering_file = "form-10-k.md"
