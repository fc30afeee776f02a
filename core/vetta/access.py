"""Who may see what: the one access rule (``Access``), and the same rule in SQL for the retrievers' candidate
filtering (``access_clause``, with the metadata filters of ``filter_clause``). The catalog applies ``Access``
wherever it hands out documents; SQLAlchemy and the SQL helpers (``vetta.catalog_sql``) are imported when a
clause is first built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .catalog import DOC_FIELDS

if TYPE_CHECKING:
    from . import catalog_sql as sql
    from .catalog import Catalog


@dataclass(frozen=True)
class Access:
    """Who is asking, and the one access rule: a caller sees public documents and those sharing one of its
    groups; with ``overdue_before`` (a domain that withholds documents past their review-by date, as
    YYYY-MM-DD), not those whose ``review_by`` is earlier. ``access_clause`` is the same rule in SQL, for the
    retrievers' candidate filtering; the catalog applies it again wherever it hands out documents (hits,
    sources, quarantine, pending versions)."""

    groups: tuple[str, ...] = ()
    overdue_before: str | None = None

    def may_see(self, document_groups) -> bool:
        return not document_groups or bool(set(document_groups) & set(self.groups))

    def serves(self, document: dict[str, Any]) -> bool:
        return self.may_see(document.get("groups") or ()) and not (
            self.overdue_before and overdue(document, self.overdue_before))


def overdue(document: dict[str, Any], today: str) -> bool:
    """Past its review-by date (``review_by`` in provenance, YYYY-MM-DD)."""
    review_by = str((document.get("metadata") or {}).get("review_by") or "")
    return bool(review_by) and review_by < today


DIRECT_FILTER_FIELDS = set(DOC_FIELDS)


def access_clause(access: Access, dialect: str, params: sql.Params) -> str:
    """``Access.serves`` as SQL over documents ``d``."""
    from . import catalog_sql as sql

    clause = "d.groups = '[]'"
    if access.groups:
        clause = f"({clause} OR {sql.json_array_has(dialect, 'd.groups', list(access.groups), params)})"
    if access.overdue_before:
        review_by = sql.json_text(dialect, "d.metadata", "review_by", params)
        clause = f"({clause} AND (COALESCE({review_by}, '') = '' OR {review_by} >= {params.add(access.overdue_before)}))"
    return clause


def filter_clause(filters: dict[str, Any], dialect: str, params: sql.Params) -> str:
    """``{"source": "a.md", "license": ["CC-BY-4.0", "CC0"], "year": 2020}`` as SQL over documents ``d``:
    provenance fields are columns, anything else a field of the document's JSON metadata."""
    from . import catalog_sql as sql
    from .retrieve import OPERATORS, check_operators

    parts = []
    for field, wanted in filters.items():
        if isinstance(wanted, dict):
            tests = [(OPERATORS[op], [value]) for op, value in check_operators(field, wanted).items()]
        else:
            tests = [("IN", list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted])]
        for op, values in tests:  # a missing field (NULL) never matches
            if field in DIRECT_FILTER_FIELDS:
                marks = [params.add(value) for value in values]
                parts.append(f"d.{field} IN ({','.join(marks)})" if op == "IN" else f"d.{field} {op} {marks[0]}")
            else:
                parts.append(sql.json_compare(dialect, "d.metadata", field, op, values, params))
    return " AND ".join(parts) or "1 = 1"


def allowed_chunk_ids(catalog: "Catalog", filters: dict[str, Any], access: Access) -> set[str]:
    from . import catalog_sql as sql

    params = sql.Params()
    where_filters = filter_clause(filters, catalog.dialect, params)
    where_access = access_clause(access, catalog.dialect, params)
    query = f"SELECT c.id FROM chunks c JOIN documents d ON d.source = c.source WHERE {where_filters} AND {where_access}"
    return {row[0] for row in catalog.rows(query, params.values)}


def has_restricted(catalog: "Catalog") -> bool:
    return bool(catalog.rows("SELECT 1 FROM documents WHERE groups != '[]' LIMIT 1"))
