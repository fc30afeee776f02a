"""JATS, BibTeX and GeoJSON/STAC loaders on small sample files, malformed ones included."""

from pathlib import Path

import pytest

from vetta.errors import LoaderError
from vetta.loaders import load_file, loader_table
from vetta.plugins import get_registry, reset_plugin_manager
from vetta_science.bibtex import BibtexLoader
from vetta_science.geo import OPEN_END, GeoLoader
from vetta_science.jats import JatsLoader

DATA = Path(__file__).parent / "data"


@pytest.fixture
def table(monkeypatch):
    """Every installed plugin's loaders, as ingestion sees them (other domains' .json/.xml loaders included)."""
    monkeypatch.delenv("VETTA_LOAD_PLUGINS", raising=False)
    reset_plugin_manager()
    yield loader_table(get_registry().loaders)
    reset_plugin_manager()


# --- JATS -------------------------------------------------------------------------------------------------
def test_a_pmc_article_becomes_one_text_with_sections_and_references():
    [article] = JatsLoader().load(DATA / "pmc-article.xml")
    assert article.title == "Monitoring lake levels with satellite altimetry"
    assert article.metadata == {
        "pmcid": "PMC1234567", "pmid": "31234567", "doi": "10.5555/test.2020.001", "year": 2020,
        "journal": "Test Journal of Earth Observation", "venue": "Test Journal of Earth Observation",
        "authors": "Rivera Ana; Okafor Chidi",
    }
    text = article.text
    for heading in ("## Abstract", "## Introduction\n", "## Introduction > Study lakes", "## Results", "## References"):
        assert heading in text
    assert text.index("## Introduction") < text.index("## Results") < text.index("## References")
    assert "- Doe J. Radar altimetry over inland water. Remote Sens. 2015" in text
    assert "Editor" not in article.metadata["authors"]


def test_jats_sniffs_the_root_so_pubmed_and_other_xml_are_left_alone():
    loader = JatsLoader()
    assert loader.accepts(DATA / "pmc-article.xml")
    assert not loader.accepts(DATA / "pubmed-set.xml")
    assert not loader.accepts(DATA / "docbook-article.xml"), "DocBook also has an <article> root"


def test_malformed_jats_names_the_problem():
    with pytest.raises(LoaderError, match="not well-formed JATS XML.*mismatch"):
        JatsLoader().load(DATA / "broken-article.xml")
    with pytest.raises(LoaderError, match="without an <article-title>"):
        JatsLoader().load(DATA / "untitled-article.xml")


# --- BibTeX -----------------------------------------------------------------------------------------------
def test_each_bibtex_entry_is_a_record_with_decoded_latex_and_metadata():
    first, second = BibtexLoader().load(DATA / "references.bib")
    assert first.record_id == "pekel2016" and second.record_id == "stac2021"
    assert first.metadata == {
        "bibkey": "pekel2016", "entry_type": "article", "year": 2016, "doi": "10.1038/nature20584",
        "authors": "Pekel, Jean-François; Cottam, Andrew; Gorelick, Noel; Belward, Alan S.",
        "venue": "Nature", "journal": "Nature",
    }
    assert "Abstract: Surface water maps from three million Landsat scenes" in first.text
    assert second.title == "STAC: a catalog for spatiotemporal assets"
    assert second.metadata["venue"] == "Proceedings of a Test Workshop" and "doi" not in second.metadata


@pytest.mark.parametrize(
    "name, problem",
    [
        ("broken.bib", r"entry 'broken2021' starting on line 6: syntax error"),
        ("duplicate.bib", r"entry 'same' .*duplicate citation key"),
        ("notitle.bib", r"entry 'anon' \(line 1\) has no title"),
    ],
)
def test_malformed_bibtex_is_rejected_naming_the_entry(name, problem):
    with pytest.raises(LoaderError, match=problem):
        BibtexLoader().load(DATA / name)


# --- GeoJSON / STAC ---------------------------------------------------------------------------------------
def test_a_stac_item_carries_its_bbox_and_date_as_filterable_numbers():
    [item] = GeoLoader().load(DATA / "lake-item.json")
    meta = item.metadata
    assert (meta["bbox_west"], meta["bbox_south"], meta["bbox_east"], meta["bbox_north"]) == (-91.2, 29.7, -90.1, 30.7)
    assert meta["date_start"] == meta["date_end"] == 20210828
    assert meta["collection"] == "HLSS30" and meta["platform"] == "sentinel-2a" and meta["eo_cloud_cover"] == 12
    assert item.title.startswith("HLS Sentinel-2 scene over Lake Pontchartrain")
    assert "Assets: B04 (Red)." in item.text


def test_a_feature_collection_gives_one_record_per_feature_with_bboxes_from_geometry():
    jakobshavn, pine_island = GeoLoader().load(DATA / "glaciers.geojson")
    assert jakobshavn.record_id == "jakobshavn"
    assert (jakobshavn.metadata["bbox_west"], jakobshavn.metadata["bbox_north"]) == (-49.9, 69.2)
    assert (jakobshavn.metadata["date_start"], jakobshavn.metadata["date_end"]) == (20100601, 20150930)
    assert (pine_island.metadata["bbox_west"], pine_island.metadata["bbox_east"]) == (-100.5, -99.0)
    assert pine_island.metadata["date_end"] == OPEN_END, "an open end overlaps every later range"


def test_a_stac_collection_uses_its_extent():
    [collection] = GeoLoader().load(DATA / "mission-collection.json")
    assert collection.metadata["bbox_south"] == -78.0 and collection.metadata["date_start"] == 20230726
    assert collection.metadata["date_end"] == OPEN_END and "license" not in collection.metadata


def test_the_geo_loader_sniffs_json_so_fhir_and_other_json_are_left_alone():
    loader = GeoLoader()
    assert loader.accepts(DATA / "lake-item.json") and loader.accepts(DATA / "mission-collection.json")
    assert not loader.accepts(DATA / "fhir-bundle.json")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("bad-bbox.geojson", "bbox .* outside longitude"),
        ("bad-date.stac.json", "date '28/08/2021' is not ISO 8601"),
        ("not-geo.geojson", "type 'Topology' is not a GeoJSON"),
        ("truncated.geojson", "not valid JSON"),
    ],
)
def test_malformed_geo_files_are_rejected_with_a_clear_reason(name, problem):
    with pytest.raises(LoaderError, match=problem):
        GeoLoader().load(DATA / name)


# --- the installed loader table ---------------------------------------------------------------------------
def test_installed_loaders_route_each_sample_to_the_right_reader(table):
    assert load_file(DATA / "pmc-article.xml", table)[0].metadata["pmcid"] == "PMC1234567"
    assert [r.record_id for r in load_file(DATA / "references.bib", table)] == ["pekel2016", "stac2021"]
    assert load_file(DATA / "lake-item.json", table)[0].metadata["date_start"] == 20210828
    assert len(load_file(DATA / "glaciers.geojson", table)) == 2
    # files that are not ours go to whichever loader claims them, never to a science loader
    for name in ("pubmed-set.xml", "docbook-article.xml", "fhir-bundle.json"):
        chosen = next((loader for loader in table[Path(name).suffix] if loader.accepts(DATA / name)), None)
        assert not isinstance(chosen, (JatsLoader, GeoLoader)), name
