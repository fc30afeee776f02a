"""The healthcare pack passes the contract every domain pack passes (vetta.contract)."""

from vetta.contract import DomainPackContract


class TestHealthcarePack(DomainPackContract):
    domain = "healthcare"
    question = "What is the first-line medicine for type 2 diabetes?"
    answering_file = "type-2-diabetes-treatment.md"
