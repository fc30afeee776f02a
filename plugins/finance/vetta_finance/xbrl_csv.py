"""XBRL-derived CSV statements (a concept, value, unit and period per row) as readable lines.

Claims a ``.csv`` only when its header names a concept (or tag), a value, a unit and a period end date, as
exports of XBRL facts do (SEC financial statement data sets, the companyfacts API flattened); any other CSV
goes to the core's CSV loader. Rows become one line each::

    Revenues (us-gaap:Revenues), FY2023 ending 2023-12-31: 1,234,000,000 USD

and the rows of one company and fiscal period become one document with that company and period as metadata.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from vetta import LoadedText, Loader, LoaderError

COLUMNS = {
    "concept": ("concept", "tag", "element", "xbrl_tag", "xbrl_concept"),
    "value": ("value", "val", "amount", "fact_value"),
    "unit": ("unit", "uom", "units", "unit_of_measure"),
    "end": ("end", "end_date", "period_end", "ddate", "period_end_date", "instant"),
    "start": ("start", "start_date", "period_start"),
    "label": ("label", "plabel", "line_item", "description"),
    "taxonomy": ("taxonomy", "namespace", "prefix", "version"),
    "fy": ("fy", "fiscal_year"),
    "fp": ("fp", "fiscal_period"),
    "form": ("form", "form_type"),
    "company": ("company", "entity", "entity_name", "registrant", "company_name", "entityname"),
    "cik": ("cik",),
}
REQUIRED = ("concept", "value", "unit", "end")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def header_roles(header: list[str]) -> dict[str, str]:
    """Role ("concept", "value"...) -> the header column that plays it."""
    keys = {_key(name): name for name in header}
    roles = {}
    for role, names in COLUMNS.items():
        for name in names:
            if name in keys:
                roles[role] = keys[name]
                break
    return roles


class XbrlCsvLoader(Loader):
    """One ``LoadedText`` per company and fiscal period of an XBRL facts CSV."""

    name = "xbrl-csv"
    suffixes = (".csv",)

    def accepts(self, path: Path) -> bool:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8-sig", errors="replace")
        first = head.splitlines()[0] if head.strip() else ""
        header = next(csv.reader([first]), [])
        roles = header_roles(header)
        return all(role in roles for role in REQUIRED)

    def load(self, path: Path) -> list[LoadedText]:
        text = path.read_text(encoding="utf-8-sig")
        reader = csv.DictReader(io.StringIO(text))
        roles = header_roles(reader.fieldnames or [])
        missing = [role for role in REQUIRED if role not in roles]
        if missing:
            raise LoaderError(str(path), f"an XBRL CSV needs {', '.join(missing)} column(s); the header has {reader.fieldnames}")
        groups: dict[tuple[str, str], dict] = {}
        for number, row in enumerate(reader, start=2):
            if None in row or any(value is None for value in row.values()):
                raise LoaderError(
                    str(path), f"line {number} has {len(_raw(row))} fields, the header has {len(reader.fieldnames)}"
                )
            if not any(value.strip() for value in row.values()):
                continue
            fact = _fact(row, roles, path, number)
            group = groups.setdefault(
                (fact["company"], fact["period"]),
                {"lines": [], "ends": [], "fy": fact["fy"], "form": fact["form"], "cik": fact["cik"]},
            )
            if fact["line"] not in group["lines"]:  # the same fact, reported again in a later filing
                group["lines"].append(fact["line"])
                group["ends"].append(fact["end"])
        if not groups:
            raise LoaderError(str(path), "an XBRL CSV with a header but no data rows")
        loaded = []
        for (company, period), group in groups.items():
            name = company or (f"CIK {group['cik']}" if group["cik"] else path.stem)
            title = f"{name} XBRL financial data, {period}"
            metadata = {"company": name, "fiscal_period": period, "publisher": "XBRL financial data"}
            end = max(group["ends"])
            metadata["period_end"] = int(end.replace("-", ""))
            if group["fy"]:
                metadata["fiscal_year"] = int(group["fy"])
            if group["form"]:
                metadata["form"] = group["form"]
            if group["cik"]:
                metadata["cik"] = group["cik"]
            record = re.sub(r"[^a-z0-9]+", "-", f"{group['cik'] or name}-{period}".lower()).strip("-")
            body = "\n".join(group["lines"])
            loaded.append(LoadedText(text=f"{title}\n\n{body}", title=title, record_id=record, metadata=metadata))
        return loaded


def _raw(row: dict) -> list:
    return [v for k, v in row.items() if k is not None and v is not None] + list(row.get(None) or [])


def _fact(row: dict, roles: dict[str, str], path: Path, number: int) -> dict:
    def get(role: str) -> str:
        return (row.get(roles[role]) or "").strip() if role in roles else ""

    for role in REQUIRED:
        if not get(role):
            raise LoaderError(str(path), f"line {number}: the {roles[role]!r} column is empty")
    concept = get("concept")
    if ":" not in concept and get("taxonomy"):
        concept = f"{get('taxonomy').split('/')[0]}:{concept}"  # SEC data sets: version "us-gaap/2023"
    try:
        value = Decimal(get("value").replace(",", ""))
    except InvalidOperation:
        raise LoaderError(str(path), f"line {number}: value {get('value')!r} is not a number") from None
    end = _date(get("end"))
    if not end:
        raise LoaderError(str(path), f"line {number}: end date {get('end')!r} is not a date (YYYY-MM-DD or YYYYMMDD)")
    start = _date(get("start")) if get("start") else ""
    fy, fp = get("fy"), get("fp").upper()
    if fy and not fy.isdigit():
        raise LoaderError(str(path), f"line {number}: fiscal year {fy!r} is not a year")
    # fy/fp name the *filing's* fiscal period (SEC companyfacts): a prior-year comparative in the FY2023 10-K
    # also carries fy=2023, so a fact that ends before its fiscal year began is labelled by its own dates
    comparative = bool(fy) and int(end[:4]) < int(fy)
    if fy and not comparative:
        period = f"FY{fy}" if fp in ("", "FY") else f"{fp} FY{fy}"
    elif start:
        period = f"period {start} to {end}"
    else:
        period = f"as of {end}"
    label = get("label") or _words(concept.split(":")[-1])
    when = f"{period} ending {end}" if fy and not comparative else period
    unit = _unit(get("unit"))
    line = f"{label} ({concept}), {when}: {_number(value)} {unit}"
    if comparative:
        line += f" (as reported in the FY{fy} {get('form') or 'filing'})"
        fy = ""
    company = get("company")
    return {"line": line, "end": end, "period": period, "company": company, "fy": fy, "form": get("form"),
            "cik": get("cik").lstrip("0") and get("cik")}


def _date(text: str) -> str:
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})", text.strip())
    return "-".join(match.groups()) if match else ""


def _words(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)


def _unit(unit: str) -> str:
    unit = unit.split(":")[-1]
    return " per ".join(part.rstrip("s") if i and part.lower() == "shares" else part for i, part in enumerate(unit.split("/")))


def _number(value: Decimal) -> str:
    if value == value.to_integral():
        return f"{int(value):,}"
    return f"{value:,}"
