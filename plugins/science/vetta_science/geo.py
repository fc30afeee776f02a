"""GeoJSON and STAC (Item, ItemCollection, Collection) metadata as searchable, filterable documents.

Each feature or collection becomes one text (title, description, properties, extent) with metadata
``bbox_west``/``bbox_south``/``bbox_east``/``bbox_north`` (floats, degrees WGS 84) and ``date_start``/
``date_end`` (int YYYYMMDD), which ``geo_filter`` selects on at retrieval. An open-ended interval (STAC
``null`` end) is stored as ``date_end = 99991231`` so that it overlaps any later range.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from vetta import LoadedText, Loader
from vetta.errors import ConfigError, LoaderError

SNIFF_BYTES = 8192
OPEN_END = 99991231
GEOJSON_TYPE = re.compile(rb'"type"\s*:\s*"(Feature|FeatureCollection)"')
SKIP_PROPERTIES = {"title", "description", "datetime", "start_datetime", "end_datetime", "name"}
RESERVED_FIELDS = {"source", "record_id", "url", "license", "version", "vetted_by", "vetted_on", "groups", "file"}


class GeoLoader(Loader):
    """``.geojson`` and ``.stac.json`` always; a ``.json`` file only when it is STAC or a GeoJSON feature."""

    name = "geojson-stac"
    suffixes = (".geojson", ".stac.json", ".json")

    def accepts(self, path: Path) -> bool:
        name = path.name.lower()
        if name.endswith((".geojson", ".stac.json")):
            return True
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        return b'"stac_version"' in head or bool(GEOJSON_TYPE.search(head))

    def load(self, path: Path) -> list[LoadedText]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise LoaderError(str(path), f"not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise LoaderError(str(path), "GeoJSON/STAC must be a JSON object")
        kind = data.get("type")
        try:
            if kind == "FeatureCollection":
                features = data.get("features")
                if not isinstance(features, list) or not features:
                    raise ValueError("a FeatureCollection without features")
                return [record(feature, str(number)) for number, feature in enumerate(features)]
            if kind in ("Feature", "Collection"):
                return [record(data, "")]
        except ValueError as error:
            raise LoaderError(str(path), f"malformed {kind or 'GeoJSON'}: {error}") from None
        raise LoaderError(str(path), f"type {kind!r} is not a GeoJSON Feature/FeatureCollection or STAC Collection")


def record(item: Any, fallback_id: str) -> LoadedText:
    """One feature / STAC item / STAC collection as a ``LoadedText``; ``ValueError`` says what is wrong."""
    if not isinstance(item, dict) or item.get("type") not in ("Feature", "Collection"):
        raise ValueError(f"feature {fallback_id or 0} is not a Feature object")
    collection = item["type"] == "Collection"
    props = item if collection else item.get("properties") or {}
    if not isinstance(props, dict):
        raise ValueError("properties must be an object")
    ident = str(item.get("id") or fallback_id)
    title = str(props.get("title") or props.get("name") or item.get("title") or ident or "Untitled feature")

    if collection:
        extent = item.get("extent") or {}
        boxes = (extent.get("spatial") or {}).get("bbox") or []
        box = check_bbox(boxes[0]) if boxes else None
        intervals = (extent.get("temporal") or {}).get("interval") or [[None, None]]
        start, end = (intervals[0] + [None, None])[:2]
    else:
        box = check_bbox(item["bbox"]) if item.get("bbox") is not None else geometry_bbox(item.get("geometry"))
        start = props.get("start_datetime") or props.get("datetime") or props.get("start_date") or props.get("date")
        end = props.get("end_datetime") or props.get("datetime") or props.get("end_date") or props.get("date")

    metadata: dict[str, Any] = {"geo_kind": "stac" if "stac_version" in item else "geojson"}
    if ident:
        metadata["feature_id"] = ident
    if item.get("collection"):
        metadata["collection"] = str(item["collection"])
    if box:
        metadata.update(zip(("bbox_west", "bbox_south", "bbox_east", "bbox_north"), box))
    if start:
        metadata["date_start"] = yyyymmdd(start)
    if start or end:
        metadata["date_end"] = yyyymmdd(end) if end else OPEN_END
    if metadata.get("date_start", 0) > metadata.get("date_end", OPEN_END):
        raise ValueError(f"{ident or title}: the time range ends before it starts")

    lines = [f"# {title}"]
    if props.get("description") or item.get("description"):
        lines.append(str(props.get("description") or item.get("description")))
    facts = []
    for key, value in props.items():
        if key in SKIP_PROPERTIES or key in ("extent", "links", "assets", "stac_version", "stac_extensions", "type", "id"):
            continue
        if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
            value = ", ".join(map(str, value))
        if isinstance(value, (str, int, float, bool)) and str(value):
            facts.append(f"- {key}: {value}")
            field = re.sub(r"[^a-z0-9_]", "_", key.lower())
            if field not in metadata and field not in RESERVED_FIELDS and not field.startswith(("bbox_", "date_")) and not isinstance(value, bool):
                metadata[field] = value if not isinstance(value, str) else value[:200]
    if facts:
        lines.append("Properties:\n" + "\n".join(facts))
    if box:
        lines.append(f"Bounding box: west {box[0]}, south {box[1]}, east {box[2]}, north {box[3]} (degrees).")
    if start or end:
        lines.append(f"Time: {start or 'unknown'} to {end or 'open (ongoing)'}.")
    assets = item.get("assets") or {}
    if isinstance(assets, dict) and assets:
        names = [f"{key} ({asset.get('title')})" if isinstance(asset, dict) and asset.get("title") else key for key, asset in assets.items()]
        lines.append("Assets: " + ", ".join(names) + ".")
    return LoadedText(text="\n\n".join(lines), title=title, record_id=ident if fallback_id else "", metadata=metadata)


def check_bbox(box: Any) -> tuple[float, float, float, float]:
    """``[w, s, e, n]`` or the 3-D ``[w, s, zmin, e, n, zmax]`` as four checked floats."""
    if not isinstance(box, list) or len(box) not in (4, 6) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in box
    ):
        raise ValueError(f"bbox must be 4 (or 6) numbers, got {box!r}")
    west, south, east, north = (box[0], box[1], box[2], box[3]) if len(box) == 4 else (box[0], box[1], box[3], box[4])
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(f"bbox {box!r} is outside longitude -180..180 / latitude -90..90 or has south > north")
    return float(west), float(south), float(east), float(north)


def geometry_bbox(geometry: Any) -> tuple[float, float, float, float] | None:
    """The bounding box of a GeoJSON geometry's coordinates (None for a null geometry)."""
    if geometry is None:
        return None
    if not isinstance(geometry, dict):
        raise ValueError("geometry must be an object or null")
    points: list = []

    def walk(node: Any) -> None:
        if isinstance(node, list) and node and all(isinstance(v, (int, float)) for v in node):
            if len(node) < 2:
                raise ValueError(f"a position needs longitude and latitude, got {node!r}")
            points.append(node)
        elif isinstance(node, list):
            for child in node:
                walk(child)
        else:
            raise ValueError(f"coordinates must be nested lists of numbers, got {node!r}")

    parts = geometry.get("geometries") if geometry.get("type") == "GeometryCollection" else [geometry]
    for part in parts or []:
        walk(part.get("coordinates") if isinstance(part, dict) else None)
    if not points:
        return None
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return check_bbox([min(lons), min(lats), max(lons), max(lats)])


def yyyymmdd(value: Any) -> int:
    """An ISO 8601 date or datetime ("2023-06-01", "2023-06-01T10:00:00Z") as the int 20230601."""
    text = str(value).strip()
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if not match:
        raise ValueError(f"date {value!r} is not ISO 8601 (YYYY-MM-DD...)")
    try:
        day = dt.date(*map(int, match.groups()))
    except ValueError as error:
        raise ValueError(f"date {value!r}: {error}") from None
    return day.year * 10000 + day.month * 100 + day.day


def geo_filter(
    bbox: tuple[float, float, float, float] | None = None, start: str | None = None, end: str | None = None
) -> dict[str, dict[str, float | int]]:
    """Retrieval filters selecting documents whose bounding box overlaps ``bbox`` (west, south, east, north)
    and whose date range overlaps ``start``..``end`` (ISO dates, either may be left open).

        assistant.retrieve("flood extent", filters=geo_filter(bbox=(-91, 29, -89, 31), start="2021-08-01"))

    Documents without the fields never match a filter on them. A box crossing the antimeridian (west > east)
    is not supported: split it into two queries.
    """
    filters: dict[str, dict[str, float | int]] = {}
    if bbox is not None:
        try:
            west, south, east, north = check_bbox([float(v) for v in bbox])
        except (TypeError, ValueError) as error:
            raise ConfigError(f"geo_filter bbox: {error}") from None
        if west > east:
            raise ConfigError("geo_filter bbox crosses the antimeridian (west > east): split it into two boxes")
        filters.update(
            bbox_west={"$lte": east}, bbox_east={"$gte": west}, bbox_south={"$lte": north}, bbox_north={"$gte": south}
        )
    try:
        first, last = (yyyymmdd(start) if start else None), (yyyymmdd(end) if end else None)
    except ValueError as error:
        raise ConfigError(f"geo_filter: {error}") from None
    if first and last and first > last:
        raise ConfigError(f"geo_filter: start {start} is after end {end}")
    if last:
        filters["date_start"] = {"$lte": last}
    if first:
        filters["date_end"] = {"$gte": first}
    return filters
