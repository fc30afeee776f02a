"""Load on `vetta serve`: concurrent askers and one writer, every response checked for access leaks.

    .venv/bin/python bench/serve_bench.py                          # 16 clients + 1 writer, 2 workers, 10 min
    .venv/bin/python bench/serve_bench.py --minutes 2 --out /tmp/x.json
    .venv/bin/python bench/serve_bench.py --chroma-server          # vectors on a `chroma run` on 127.0.0.1
    .venv/bin/python bench/serve_bench.py --postgres               # and the catalog on a PostgreSQL there

Set-up (not timed): a fresh home with the healthcare starter corpus (public) and, per access group, vetted
documents on the same topics as the questions, each carrying its group's secret marker, so retrieval would
pick them for any caller if access let it. One API key per client (clients cycle through the groups and
public-only). The service runs as `vetta serve --workers N` on 127.0.0.1, with its defaults except the rate
limit (off: the clients are the load, not abusers).

Measured: each client asks the healthcare eval questions and the group-topic questions in a loop
(POST /v1/ask); the writer rewrites one restricted document and runs `vetta ingest` on the folder, again
and again. Every response is checked: each cited and retrieved source must be public or of the caller's
group, and no other group's marker may appear anywhere in the body. Reported: requests served, their rate,
p50/p95/p99 latency, errors by status, leaks (target 0), abstentions, the writer's ingests, the machine.
A 503 ``model_busy`` (the model's queue could not be served within the request timeout) is counted apart
from errors as ``refused_busy``: the client waits its Retry-After (at most 30 s here), as a well-behaved
client does, before it asks again; ``retry_after_s`` reports the waits the server advised.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from machine import describe  # noqa: E402

GROUPS = ("oncology", "cardiology", "paediatrics", "renal")
TOPICS = {  # restricted text on the topics the public questions ask about
    "diabetes": "For adults with type 2 diabetes seen in the {group} service, metformin is started at a low dose "
                "and the dose is raised over four weeks while kidney function is checked.",
    "blood pressure": "In the {group} service, blood pressure is measured at every visit and a reading above "
                      "140/90 on two visits is treated with lifestyle advice first.",
    "screening": "Patients of the {group} service are offered colon cancer screening from age 45, with a stool "
                 "test every year or a colonoscopy every ten years.",
}
TOPIC_QUESTIONS = [
    "How is metformin started for type 2 diabetes?",
    "When is high blood pressure treated with medicine?",
    "At what age does colon cancer screening start?",
]


def secret(group: str) -> str:
    return f"MARKER{group.upper()}"


def write_restricted(folder: Path, version: int = 0) -> dict[str, str]:
    """One document per group and topic; returns source file name -> group."""
    folder.mkdir(parents=True, exist_ok=True)
    owners, manifest = {}, {}
    for group in GROUPS:
        for topic, text in TOPICS.items():
            name = f"{group}-{topic.replace(' ', '-')}.md"
            (folder / name).write_text(f"# {group} {topic} protocol\n\n{text.format(group=group)} "
                                       f"Protocol marker {secret(group)}. Revision {version}.\n")
            owners[name], manifest[name] = group, {"groups": [group]}
    (folder / "provenance.json").write_text(json.dumps(manifest))
    return owners


def vetta(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "vetta"), *args], env=env, capture_output=True,
                          text=True, check=True)


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.leaks: list[dict] = []
        self.abstained = 0
        self.transport_errors = 0
        self.refused_busy = 0
        self.retry_after: list[float] = []
        self.error_examples: list[str] = []
        self.ingests: list[float] = []
        self.ingest_failures: list[str] = []


def check(body: dict, raw: str, group: str | None, owners: dict[str, str]) -> list[str]:
    """What the caller should not have seen in this response."""
    problems = []
    seen = {c["source"] for c in body.get("citations", [])} | {h["source"] for h in body.get("hits", [])}
    for source in seen:
        owner = owners.get(source.rsplit("/", 1)[-1]) if source.startswith("restricted/") else None
        if owner is not None and owner != group:
            problems.append(f"source {source} of {owner}")
    problems += [f"marker of {other}" for other in GROUPS if other != group and secret(other) in raw]
    return problems


def client(url: str, key: str, group: str | None, questions: list[str], owners: dict, results: Results,
           stop: float, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300) as http:
        while time.monotonic() < stop:
            question = rng.choice(questions)
            started = time.perf_counter()
            try:
                response = http.post("/v1/ask", json={"domain": "healthcare", "question": question})
            except httpx.HTTPError as error:
                with results.lock:
                    results.transport_errors += 1
                    if len(results.error_examples) < 5:
                        results.error_examples.append(f"{type(error).__name__}: {error}"[:300])
                continue
            elapsed = time.perf_counter() - started
            problems: list[str] = []
            abstained = False
            if response.status_code == 503 and "model_busy" in response.text:
                advised = float(response.headers.get("retry-after", "5"))
                with results.lock:
                    results.refused_busy += 1
                    results.retry_after.append(advised)
                time.sleep(max(0.0, min(advised, 30.0, stop - time.monotonic())))
                continue
            if response.status_code == 200:
                body = response.json()
                abstained = body["abstained"]
                problems = check(body, response.text, group, owners)
            with results.lock:
                results.statuses[response.status_code] = results.statuses.get(response.status_code, 0) + 1
                if response.status_code == 200:
                    results.latencies.append(elapsed)
                    results.abstained += abstained
                elif len(results.error_examples) < 5:
                    results.error_examples.append(f"{response.status_code}: {response.text[:300]}")
                if problems:
                    results.leaks.append({"group": group, "question": question, "problems": problems})


def writer(folder: Path, env: dict, results: Results, stop: float) -> None:
    version = 0
    while time.monotonic() < stop:
        version += 1
        write_restricted(folder, version)
        started = time.perf_counter()
        try:
            vetta("ingest", "healthcare", str(folder), "--vetted-by", "bench writer", env=env)
            results.ingests.append(time.perf_counter() - started)
        except subprocess.CalledProcessError as error:
            results.ingest_failures.append((error.stderr or "")[-300:])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chroma-server", action="store_true", help="vectors on a Chroma server on 127.0.0.1")
    parser.add_argument("--postgres", action="store_true",
                        help="the catalog on a PostgreSQL started on 127.0.0.1 (implies --chroma-server)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.minutes > 30 or args.clients > 64:
        parser.error("bounded: at most 30 minutes and 64 clients")

    from vetta.server import process

    work = Path(tempfile.mkdtemp(prefix="vetta-serve-bench-"))
    home = work / "home"
    home.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VETTA_HOME": str(home)}
    chroma = postgres_stop = None
    config = "[serve]\nrate_limit_per_minute = 0\n"
    args.chroma_server = args.chroma_server or args.postgres
    if args.postgres:
        sys.path.insert(0, str(ROOT / "tests"))
        from storehelp import new_database, start_postgres

        (work / "postgres").mkdir()
        postgres_stop, server_url = start_postgres(work / "postgres")
        config = f'catalog_url = "{new_database(server_url, "bench")}"\n' + config
    if args.chroma_server:
        sys.path.insert(0, str(ROOT / "tests"))
        from storehelp import start_chroma

        chroma, chroma_url = start_chroma(work / "chroma")
        config = f'chroma_url = "{chroma_url}"\n' + config
    (home / "config.toml").write_text(config)
    set_up = time.perf_counter()
    vetta("ingest", "healthcare", "--starter", env=env)
    restricted = work / "restricted"
    owners = write_restricted(restricted)
    vetta("ingest", "healthcare", str(restricted), "--vetted-by", "bench set-up", env=env)
    keys = []
    for number in range(args.clients):
        group = (GROUPS + (None,))[number % (len(GROUPS) + 1)]
        added = vetta("keys", "add", f"client{number}", *(["--group", group] if group else []), env=env)
        keys.append((added.stdout.strip().splitlines()[0], group))
    from vetta.domains import DomainPack  # noqa: F401  (the eval questions ship with the plugin)
    import vetta_healthcare

    eval_file = Path(vetta_healthcare.__file__).parent / "eval" / "questions.jsonl"
    questions = [json.loads(line)["question"] for line in eval_file.read_text().splitlines() if line.strip()]
    questions += TOPIC_QUESTIONS * 3
    server, url = process.start(home, workers=args.workers, env=env, timeout=300, log=work / "serve.log")
    set_up = time.perf_counter() - set_up
    results = Results()
    try:
        # warm each worker's models before the clock starts (a first ask loads the embedder and the verifier)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys[0][0]}"}, timeout=300) as http:
            for _ in range(args.workers * 2):
                http.post("/v1/ask", json={"domain": "healthcare", "question": questions[0]})
        started = time.monotonic()
        stop = started + args.minutes * 60
        threads = [threading.Thread(target=client, args=(url, key, group, questions, owners, results, stop, n))
                   for n, (key, group) in enumerate(keys)]
        threads.append(threading.Thread(target=writer, args=(restricted, env, results, stop)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - started
    finally:
        process.stop(server)
        if chroma is not None:
            chroma.terminate()
            chroma.wait(timeout=30)
        if postgres_stop is not None:
            subprocess.run(postgres_stop, check=False, capture_output=True, timeout=60)
    served = len(results.latencies)
    errors = sum(count for status, count in results.statuses.items() if status != 200) + results.transport_errors
    report = {
        "machine": describe(),
        "settings": {"minutes": args.minutes, "clients": args.clients, "workers": args.workers,
                     "vectors": "chroma server" if args.chroma_server else "embedded chroma",
                     "catalog": "postgresql" if args.postgres else "sqlite (embedded)", "rate_limit": "off"},
        "set_up_s": round(set_up, 1),
        "wall_s": round(wall, 1),
        "requests_served": served,
        "requests_per_s": round(served / wall, 2),
        "latency_s": {"p50": round(percentile(results.latencies, 0.5), 3),
                      "p95": round(percentile(results.latencies, 0.95), 3),
                      "p99": round(percentile(results.latencies, 0.99), 3),
                      "mean": round(statistics.fmean(results.latencies), 3) if served else None},
        "statuses": {str(k): v for k, v in sorted(results.statuses.items())},
        "errors": errors,
        "refused_busy": results.refused_busy,
        "retry_after_s": {"p50": round(percentile(results.retry_after, 0.5), 1),
                          "max": max(results.retry_after, default=None)},
        "error_examples": results.error_examples,
        "leaks": len(results.leaks),
        "leak_examples": results.leaks[:5],
        "abstained_share": round(results.abstained / served, 3) if served else None,
        "writer": {"ingests": len(results.ingests), "failures": len(results.ingest_failures),
                   "failure_examples": results.ingest_failures[:3],
                   "ingest_s_p50": round(percentile(results.ingests, 0.5), 2)},
        "work_folder": str(work),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
