"""BM25 generations on disk: built by whichever process needs one, pruned by the writer."""

import os
from pathlib import Path

from vetta.lexical import LexicalIndex


def test_prune_survives_a_build_renamed_into_place_while_it_lists(tmp_path, monkeypatch):
    """Seen in the serve load bench: `vetta ingest` failed in prune because a worker's `.partial-` build
    folder was renamed to its generation between listing the folder and reading the entry's age."""
    index = LexicalIndex(tmp_path / "bm25")
    for generation in (1, 2, 3):
        index.publish(generation, lambda g=generation: (g, [(f"c{g}", "s", "metformin is the first drug")]))
    abandoned = tmp_path / "bm25" / ".partial-killed"
    abandoned.mkdir()
    os.utime(abandoned, (0, 0))
    listed = Path.iterdir
    monkeypatch.setattr(Path, "iterdir", lambda self: iter([*listed(self), self / ".partial-renamed"]))
    index.prune(3)
    assert sorted(p.name for p in listed(tmp_path / "bm25")) == ["g0000000002", "g0000000003"]
    monkeypatch.undo()
    index.ensure(3, lambda: (3, []))
    assert index.ids == ["c3"] and [hit for hit, _ in index.search("first drug", 5)] == ["c3"]
