"""Check questions.jsonl and names.jsonl against the documents in docs/.

Every "expected" sentence must occur in its document's normalised text:
.md/.txt: whitespace runs collapsed to one space; .html: tags removed with a
regex, entities unescaped, whitespace collapsed. Prints counts per kind and split.
"""
import collections, html, json, pathlib, re, sys

HERE = pathlib.Path(__file__).resolve().parent
DOCS = HERE / "docs"

def visible(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S | re.I)
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return text

def normalise(text):
    return re.sub(r"\s+", " ", text).strip()

def main():
    docs = {p.name: visible(p) for p in sorted(DOCS.iterdir()) if p.suffix in (".md", ".txt", ".html")}
    norm = {n: normalise(t) for n, t in docs.items()}
    errors = []
    qs = [json.loads(l) for l in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    ids = [q["id"] for q in qs]
    if len(set(ids)) != len(ids):
        errors.append("duplicate ids")
    counts = collections.Counter()
    for q in qs:
        counts[(q["kind"], q["split"])] += 1
        if q["answerable"] != (q["kind"] not in ("unanswerable_title", "unanswerable_offtopic")):
            errors.append(f"{q['id']}: answerable does not match kind")
        if not q["answerable"]:
            if q.get("expected"):
                errors.append(f"{q['id']}: unanswerable with expected sentences")
            continue
        if q["doc"] not in docs:
            errors.append(f"{q['id']}: no document {q['doc']}")
            continue
        for s in q["expected"]:
            if s not in norm[q["doc"]]:
                errors.append(f"{q['id']}: not in {q['doc']}: {s!r}")
            elif q["kind"] == "wrapped" and s in docs[q["doc"]]:
                errors.append(f"{q['id']}: 'wrapped' sentence is on one line: {s!r}")
    names = [json.loads(l) for l in (HERE / "names.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    for n in names:
        if n["doc"] not in docs or n["name"] not in norm[n["doc"]]:
            errors.append(f"name {n['name']!r} not in {n['doc']}")
        if n["is_person"] != (n["kind"] == "person"):
            errors.append(f"name {n['name']!r}: is_person does not match kind")
    kinds = sorted({k for k, _ in counts})
    print(f"{'kind':24} {'dev':>4} {'test':>4} {'all':>4}")
    for k in kinds:
        print(f"{k:24} {counts[(k, 'dev')]:4} {counts[(k, 'test')]:4} {counts[(k, 'dev')] + counts[(k, 'test')]:4}")
    print(f"{'total':24} {sum(v for (k, s), v in counts.items() if s == 'dev'):4} "
          f"{sum(v for (k, s), v in counts.items() if s == 'test'):4} {len(qs):4}")
    people = {n["name"] for n in names if n["is_person"]}
    print(f"documents: {len(docs)}; names: {len({n['name'] for n in names})} distinct "
          f"({len(people)} people), {len(names)} name-document rows")
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main())
