"""EDGAR filings and XBRL CSV statements, on the small sample files in tests/data."""

import shutil
from pathlib import Path

import pytest

from vetta import LoaderError
from vetta.loaders import choose_loader, load_file, loader_table
from vetta.plugins import get_registry
from vetta_finance.edgar import EdgarFilingLoader
from vetta_finance.xbrl_csv import XbrlCsvLoader

DATA = Path(__file__).parent / "data"
EDGAR, XBRL = EdgarFilingLoader(), XbrlCsvLoader()


@pytest.fixture
def table():
    """Every registered loader, the core's fallbacks included, as ingestion sees them."""
    return loader_table(get_registry().loaders)


# --- sniffing ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, claimed",
    [
        ("acme-10k-2023.htm", True),
        ("beta-10q-2024q1.html", True),
        ("company-newsletter.html", False),  # mentions "Form 10-K" but is not a filing
        ("news-about-a-10k.html", False),  # names the form and the SEC, but has no cover page
        ("filing-without-items.htm", True),  # a cover page: claimed, then a clear LoaderError
        ("acme-facts.csv", True),
        ("sec-dataset-num.csv", True),
        ("household-budget.csv", False),  # has value and unit but no concept or period end
    ],
)
def test_only_filings_and_xbrl_statements_are_claimed(name, claimed):
    loader = EDGAR if name.endswith((".htm", ".html")) else XBRL
    assert loader.accepts(DATA / name) is claimed


@pytest.mark.parametrize(
    "name, loader_name",
    [("acme-10k-2023.htm", "edgar-filing"), ("acme-facts.csv", "xbrl-csv")],
)
def test_ingestion_picks_the_finance_loader_for_its_files(table, name, loader_name):
    assert choose_loader(DATA / name, table).name == loader_name


@pytest.mark.parametrize("name", ["company-newsletter.html", "news-about-a-10k.html", "household-budget.csv"])
def test_other_html_and_csv_go_to_the_core_loaders(table, name):
    chosen = choose_loader(DATA / name, table)
    assert chosen is not None and chosen.name not in ("edgar-filing", "xbrl-csv")
    assert load_file(DATA / name, table)


# --- EDGAR filings ---------------------------------------------------------------------------------------
def test_a_10k_becomes_one_document_per_item_with_filing_metadata():
    loaded = EDGAR.load(DATA / "acme-10k-2023.htm")
    assert [item.record_id for item in loaded] == ["item-1", "item-1a", "item-7", "item-8"]
    mdna = loaded[2]
    assert mdna.metadata == {
        "form": "10-K", "company": "Acme Widgets, Inc.", "fiscal_period": "FY2023", "publisher": "SEC EDGAR",
        "period_end": 20231231, "fiscal_year": 2023, "item": "7", "part": "II",
        "item_title": "Management\u2019s Discussion and Analysis of Financial Condition and Results of Operations",
    }
    assert mdna.title.startswith("Acme Widgets, Inc. Form 10-K FY2023: Item 7. Management")
    assert "Net sales increased 8% to $512.4 million in fiscal 2023" in mdna.text


def test_the_table_of_contents_does_not_replace_the_real_sections():
    business = EDGAR.load(DATA / "acme-10k-2023.htm")[0]
    assert "1,200 full-time employees" in business.text
    assert "Risk Factors" not in business.text.split("\n\n", 1)[1]


def test_tables_are_kept_as_pipe_rows_with_signs_and_parentheses_joined():
    statements = EDGAR.load(DATA / "acme-10k-2023.htm")[3].text
    assert "Net sales | $512,400 | $474,500" in statements
    assert "Other expense, net | (1,420) | (980)" in statements
    assert "(in thousands of USD, except per share amounts)" in statements


def test_hidden_xbrl_headers_are_left_out():
    texts = " ".join(item.text for item in EDGAR.load(DATA / "acme-10k-2023.htm"))
    assert "hidden XBRL context" not in texts


def test_a_10q_keeps_items_of_both_parts_apart():
    loaded = EDGAR.load(DATA / "beta-10q-2024q1.html")
    assert [item.record_id for item in loaded] == ["part-i-item-1", "part-i-item-2", "part-ii-item-1", "part-ii-item-1a"]
    assert loaded[0].metadata["fiscal_period"] == "quarter ended 2024-03-31"
    assert loaded[0].metadata["form"] == "10-Q" and loaded[0].metadata["company"] == "Beta Foods Corp."
    assert "Revenue | $ 210.5 | $ 198.0" in loaded[0].text
    assert loaded[2].metadata["item_title"] == "Legal Proceedings"


def test_a_filing_without_item_sections_is_a_clear_loader_error():
    with pytest.raises(LoaderError, match="no item sections: expected headings like 'Item 1. Business'"):
        EDGAR.load(DATA / "filing-without-items.htm")


# --- XBRL CSV statements ---------------------------------------------------------------------------------
def test_xbrl_rows_become_readable_lines_grouped_by_company_and_period():
    fy2023, fy2022 = XBRL.load(DATA / "acme-facts.csv")
    lines = fy2023.text.splitlines()
    assert lines[0] == "Acme Widgets Inc. XBRL financial data, FY2023"
    assert "Revenues (us-gaap:Revenues), FY2023 ending 2023-12-31: 512,400,000 USD" in lines
    assert (
        "Earnings per share, diluted (us-gaap:EarningsPerShareDiluted), FY2023 ending 2023-12-31: 2.31 USD per share"
        in lines
    )
    assert fy2023.metadata["company"] == "Acme Widgets Inc." and fy2023.metadata["fiscal_period"] == "FY2023"
    assert fy2023.metadata["fiscal_year"] == 2023 and fy2023.metadata["period_end"] == 20231231
    assert fy2022.metadata["fiscal_period"] == "FY2022" and "474,500,000 USD" in fy2022.text
    assert fy2023.record_id != fy2022.record_id


def test_sec_financial_statement_data_set_columns_are_understood():
    (loaded,) = XBRL.load(DATA / "sec-dataset-num.csv")
    assert "Assets (us-gaap:Assets), as of 2023-12-31: 1,234,000,000 USD" in loaded.text
    assert loaded.metadata["period_end"] == 20231231


@pytest.mark.parametrize(
    "name, problem",
    [
        ("facts-bad-value.csv", "line 2: value 'about 5 million' is not a number"),
        ("facts-short-row.csv", "line 2 has 3 fields, the header has 5"),
        ("facts-bad-date.csv", "line 2: end date 'last year' is not a date"),
        ("facts-header-only.csv", "a header but no data rows"),
    ],
)
def test_malformed_xbrl_csv_is_a_clear_loader_error(name, problem):
    with pytest.raises(LoaderError) as error:
        XBRL.load(DATA / name)
    assert problem in error.value.problem


# --- end to end ------------------------------------------------------------------------------------------
def test_filings_and_statements_are_ingested_and_filterable(fake_assistant, tmp_path):
    folder = tmp_path / "filings"
    folder.mkdir()
    for name in ("acme-10k-2023.htm", "acme-facts.csv", "filing-without-items.htm"):
        shutil.copy(DATA / name, folder / name)
    assistant = fake_assistant("finance")
    report = assistant.ingest([folder], vetted_by="Test Reviewer")
    assert report.added == 6 and report.failed == 1
    assert "no item sections" in report.failures[0][1]
    hits = assistant.retrieve("net sales revenue", filters={"fiscal_year": {"$gte": 2023}})
    assert hits and all(hit.metadata["fiscal_year"] >= 2023 for hit in hits)
    risk = assistant.retrieve("risk factors steel price", filters={"item": "1A"})
    assert [hit.source.rsplit("/", 1)[-1] for hit in risk] == ["acme-10k-2023.htm#item-1a"]


def test_headings_set_in_one_row_tables_and_references_to_items_in_the_text():
    business, mdna = EDGAR.load(DATA / "gamma-10k-fy2024.htm")
    assert (business.metadata["item"], mdna.metadata["item"]) == ("1", "7")
    assert business.metadata["company"] == "GAMMA SOFTWARE CORP" and business.metadata["fiscal_period"] == "FY2024"
    assert business.metadata["period_end"] == 20240630
    assert "Item 7 of this report explains the change" in business.text  # a reference, not a new section
    assert mdna.metadata["item_title"] == "MANAGEMENT\u2019S DISCUSSION AND ANALYSIS"
    assert "Subscription revenue | 88.0 | 78.6" in mdna.text


def test_companyfacts_comparatives_keep_their_own_period_and_duplicates_are_dropped():
    loaded = {item.metadata["fiscal_period"]: item for item in XBRL.load(DATA / "companyfacts-flat.csv")}
    assert set(loaded) == {"FY2023", "period 2021-09-26 to 2022-09-24"}
    current, prior = loaded["FY2023"], loaded["period 2021-09-26 to 2022-09-24"]
    assert current.metadata["company"] == "Example Devices Inc." and current.metadata["fiscal_year"] == 2023
    assert current.text.count("383,285,000,000 USD") == 1
    assert "Shares outstanding (dei:EntityCommonStockSharesOutstanding), FY2023 ending 2023-10-20: 15,552,752,000 shares" in current.text
    assert (
        "Revenues (us-gaap:Revenues), period 2021-09-26 to 2022-09-24: 394,328,000,000 USD (as reported in the "
        "FY2023 10-K)" in prior.text
    )
    assert "fiscal_year" not in prior.metadata and prior.metadata["period_end"] == 20220924
