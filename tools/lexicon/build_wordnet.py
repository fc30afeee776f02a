"""Build the WordNet relation tables that ship in ``core/vetta/lexicon/`` from WordNet 3.0 data files.

    apt-get install -y wordnet-base            # Debian: the Princeton data under /usr/share/wordnet
    python -m tools.lexicon.build_wordnet [--wordnet /usr/share/wordnet]

Writes ``core/vetta/lexicon/wordnet.tsv.gz``: one line per lemma (lower case, spaces for underscores),
tab-separated fields:
  lemma, synsets (space-separated "pos:offset"), antonyms (lemmas), related (lemmas: derivational forms and
  pertainyms), broader (lemmas of the hypernyms of the lemma's first two senses, two levels up).
Only what the verifier reads is kept. The WordNet licence travels with the table (``WORDNET-LICENSE``).
"""

from __future__ import annotations

import argparse
import gzip
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "core" / "vetta" / "lexicon"
POS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}


def parse(folder: Path):
    """Synset -> (pos, words), and the pointers: (source synset, source word number, symbol, target...)."""
    synsets: dict[str, tuple[str, list[str]]] = {}
    pointers: list[tuple[str, int, str, str, int]] = []
    for name, pos in POS.items():
        for line in (folder / f"data.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue  # the licence header
            fields = line.split(" | ")[0].split()
            offset, ss_type, count = fields[0], fields[2], int(fields[3], 16)
            key = f"{'a' if ss_type == 's' else ss_type}:{offset}"
            words = [fields[4 + 2 * i].lower().replace("_", " ") for i in range(count)]
            words = [w.split("(")[0] for w in words]  # "first(a)" syntactic markers
            synsets[key] = (ss_type, words)
            index = 4 + 2 * count
            n_pointers = int(fields[index])
            for p in range(n_pointers):
                symbol, target, target_pos, source_target = fields[index + 1 + 4 * p: index + 5 + 4 * p]
                target_key = f"{'a' if target_pos == 's' else target_pos}:{target}"
                source, target_word = int(source_target[:2], 16), int(source_target[2:], 16)
                pointers.append((key, source, symbol, target_key, target_word))
    return synsets, pointers


def build(folder: Path) -> dict[str, dict[str, set[str]]]:
    synsets, pointers = parse(folder)
    table: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key, (_, words) in synsets.items():
        for word in words:
            table[word]["synsets"].add(key)
    hypernyms: dict[str, set[str]] = defaultdict(set)
    similar: dict[str, set[str]] = defaultdict(set)
    direct: dict[str, set[str]] = defaultdict(set)
    for key, source, symbol, target, target_word in pointers:
        if symbol in ("@", "@i"):
            hypernyms[key].add(target)
        elif symbol == "&":
            similar[key].add(target)
        if symbol not in ("!", "+", "\\"):
            continue
        sources = synsets[key][1] if source == 0 else [synsets[key][1][source - 1]]
        targets = synsets[target][1] if target_word == 0 else [synsets[target][1][target_word - 1]]
        field = "antonyms" if symbol == "!" else "related"
        for a in sources:
            for b in targets:
                if a != b:
                    table[a][field].add(b)
                    if field == "antonyms":
                        table[b][field].add(a)
                        direct[a].add(b)
                        direct[b].add(a)
    # indirect antonyms, one way: a satellite adjective ("elevated") opposes the direct antonyms of its
    # cluster's head ("high" -> "low"). Heads with many antonyms are left out (colour and pitch clusters
    # make every grey a "negative"); the verifier checks antonymy both ways, so no back-link is needed.
    heads_antonyms: dict[str, set[str]] = defaultdict(set)
    for key, (ss_type, words) in synsets.items():
        if ss_type == "a":
            for word in words:
                heads_antonyms[key] |= direct[word]
    for key, (ss_type, words) in synsets.items():
        if ss_type == "s":
            for head in similar[key]:
                opposites = heads_antonyms.get(head, set())
                if 0 < len(opposites) <= 3:
                    for word in words:
                        table[word]["antonyms"] |= opposites
    # broader terms: hypernyms two levels up of a lemma's first two senses ("medicine" -> "drug")
    senses: dict[str, list[str]] = defaultdict(list)
    for name, pos in POS.items():
        for line in (folder / f"index.{name}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            fields = line.split()
            lemma, synset_count = fields[0].replace("_", " "), int(fields[2])
            offsets = fields[-synset_count:]
            senses[lemma].extend(f"{pos}:{o}" for o in offsets[:2])
    for lemma, keys in senses.items():
        frontier = set(keys)
        for _ in range(2):
            frontier = {h for k in frontier for h in hypernyms.get(k, ())}
            for k in frontier:
                table[lemma]["broader"].update(w for w in synsets[k][1] if w != lemma)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet"))
    args = parser.parse_args()
    table = build(args.wordnet)
    OUT.mkdir(parents=True, exist_ok=True)
    lines = []
    for lemma in sorted(table):
        fields = table[lemma]
        row = [lemma] + [" ".join(sorted(fields.get(name, ()))) for name in ("synsets",)]
        row += ["|".join(sorted(fields.get(name, ()))) for name in ("antonyms", "related", "broader")]
        lines.append("\t".join(row))
    with gzip.open(OUT / "wordnet.tsv.gz", "wt", encoding="utf-8", compresslevel=9) as handle:
        handle.write("\n".join(lines) + "\n")
    licence = Path("/usr/share/doc/wordnet-base/copyright")
    if licence.exists():
        (OUT / "WORDNET-LICENSE").write_text(licence.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"{len(lines)} lemmas -> {OUT / 'wordnet.tsv.gz'} ({(OUT / 'wordnet.tsv.gz').stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
