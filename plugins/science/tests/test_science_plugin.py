"""The science pack passes the contract every domain pack passes (vetta.contract)."""

from vetta.contract import DomainPackContract


class TestSciencePack(DomainPackContract):
    domain = "science"
    question = "When was the first Landsat satellite launched?"
    answering_file = "landsat-program.md"
