"""geo_filter: bounding-box and date-range overlap as retrieval filters, on the starter corpus and sample files."""

from pathlib import Path

import pytest

from vetta.errors import ConfigError
from vetta_science.geo import geo_filter

DATA = Path(__file__).parent / "data"
ANTARCTICA = (-180.0, -90.0, 180.0, -65.0)


def overlaps(meta, box, start=None, end=None):
    west, south, east, north = box
    inside = meta["bbox_west"] <= east and meta["bbox_east"] >= west and meta["bbox_south"] <= north and meta["bbox_north"] >= south
    return inside and (start is None or meta["date_end"] >= start) and (end is None or meta["date_start"] <= end)


def test_geo_filter_builds_overlap_conditions():
    assert geo_filter(bbox=(-91, 29, -89, 31), start="2021-08-01", end="2021-09-30") == {
        "bbox_west": {"$lte": -89.0}, "bbox_east": {"$gte": -91.0},
        "bbox_south": {"$lte": 31.0}, "bbox_north": {"$gte": 29.0},
        "date_start": {"$lte": 20210930}, "date_end": {"$gte": 20210801},
    }
    assert geo_filter(start="2020-01-01") == {"date_end": {"$gte": 20200101}}
    assert geo_filter() == {}


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"bbox": (170, -10, -170, 10)}, "antimeridian"),
        ({"bbox": (0, 10, 5, -10)}, "south > north"),
        ({"bbox": (0, 0, 1)}, "bbox"),
        ({"start": "2021-02-30"}, "day is out of range"),
        ({"start": "2022-01-01", "end": "2021-01-01"}, "after end"),
    ],
)
def test_geo_filter_rejects_boxes_and_dates_it_cannot_honour(kwargs, problem):
    with pytest.raises(ConfigError, match=problem):
        geo_filter(**kwargs)


def test_retrieval_keeps_only_starter_documents_that_overlap_the_place_and_time(fake_assistant):
    assistant = fake_assistant("science")
    assistant.ingest_starter()
    filters = geo_filter(bbox=ANTARCTICA, start="2000-01-01", end="2010-12-31")
    hits = assistant.retrieve("Antarctic ice sheet mass", k=10, filters=filters)
    sources = {Path(hit.source).name for hit in hits}
    assert "zwally-2015-antarctic-mass-gains.md" in sources and "ice-sheets.md" in sources
    assert all(overlaps(hit.metadata, ANTARCTICA, 20000101, 20101231) for hit in hits)
    # IMBIE (1992-2017) overlaps 2000-2010; GRACE-FO (from 2018) and the Mauna Loa point do not qualify
    assert "grace-fo.md" not in sources and "mauna-loa-co2.md" not in sources
    mauna_loa = assistant.retrieve("carbon dioxide record", k=50, filters=geo_filter(bbox=(-156, 19, -155, 20)))
    names = {Path(hit.source).name for hit in mauna_loa}
    assert "mauna-loa-co2.md" in names and "ozone-hole.md" not in names and "imbie-2018-antarctic-mass-balance.md" not in names


def test_retrieval_filters_ingested_geojson_and_stac_records(fake_assistant):
    assistant = fake_assistant("science")
    report = assistant.ingest([DATA / "lake-item.json", DATA / "glaciers.geojson", DATA / "mission-collection.json"])
    assert report.failed == 0 and report.added == 4
    pine_island = geo_filter(bbox=(-101, -76, -98, -74), start="2020-01-01")
    # the SWOT collection (78 S to 78 N, from 2023, open-ended) overlaps too; Jakobshavn (Greenland) does not
    assert {hit.source.split("/")[-1] for hit in assistant.retrieve("glacier", filters=pine_island)} == {
        "glaciers.geojson#pine-island", "mission-collection.json"
    }
    louisiana = geo_filter(bbox=(-91, 29, -89, 31), start="2021-08-01", end="2021-09-30")
    # the SWOT collection covers the place but starts in 2023
    assert {hit.title for hit in assistant.retrieve("lake scene", filters=louisiana)} == {
        "HLS Sentinel-2 scene over Lake Pontchartrain after Hurricane Ida"
    }
    greenland_2012 = geo_filter(bbox=(-55, 65, -45, 72), start="2012-01-01", end="2012-12-31")
    assert [hit.metadata["feature_id"] for hit in assistant.retrieve("glacier front", filters=greenland_2012)] == ["jakobshavn"]
