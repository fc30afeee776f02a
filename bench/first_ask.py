"""The first ``ask`` in a new process, and the asks after it, as a user's script sees them (issue 17).

    .venv/bin/python bench/first_ask.py --out bench/results/first-ask.json
    PYTHONPATH=/tmp/before/core .venv/bin/python bench/first_ask.py --home H   # another checkout, same home

A home with the domain's starter corpus is ingested once (or ``--home`` is used as it is). Then, for each
mode (quotes first, the default; and the model writing, ``prefer_quotes = false``), ``--runs`` new Python
processes each time ``import vetta; Assistant(domain).ask(question)`` from the script's first line (the
interpreter's own start-up, about 0.05 s, is not in it) and then ask ``--later`` more questions with
everything loaded. Reports the median first ask, the p50 of the later asks, the median wall time of a whole
process (every ask and the exit included), which deep-learning packages the process imported, and the
machine (bench/machine.py). Runs one after another, never two at once.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe  # noqa: E402

QUESTIONS = {
    "healthcare": ["What is the first-line medicine for type 2 diabetes?",
                   "How often should adults get a tetanus booster?",
                   "What are the warning signs of a stroke?",
                   "How much vitamin D do adults need each day?",
                   "Can children take aspirin?"],
    "finance": ["What does SIPC protect?", "What is a Roth IRA?", "How are capital gains taxed?",
                "What is an index fund?", "What does FDIC insurance cover?"],
    "science": ["What does the GRACE mission measure?", "How fast is sea level rising?",
                "What is the resolution of Sentinel-2?", "What causes ocean acidification?",
                "What is the Keeling Curve?"],
}

CHILD = """
import json, sys, time
started = time.perf_counter()
import vetta
assistant = vetta.Assistant(sys.argv[1], prefer_quotes=sys.argv[2] == "quotes")
questions = json.loads(sys.argv[3])
first = assistant.ask(questions[0])
first_s = time.perf_counter() - started
later = []
for question in questions[1:]:
    t = time.perf_counter()
    answer = assistant.ask(question)
    later.append(time.perf_counter() - t)
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers", "llama_cpp") if m in sys.modules)
print(json.dumps({"first_in_process_s": first_s, "first_abstained": first.abstained, "later_s": later,
                  "imported": heavy}))
"""


def run_child(domain: str, mode: str, questions: list[str], env: dict) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, domain, mode, json.dumps(questions)],
                          capture_output=True, text=True, env=env, timeout=900)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"process_s": wall, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--domain", default="healthcare", choices=sorted(QUESTIONS))
    parser.add_argument("--home", type=Path, help="a home already holding the domain's corpus")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--later", type=int, default=4, help="questions asked after the first, per process")
    parser.add_argument("--modes", default="quotes,model")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="first-ask-")) / "home"
    env = {**os.environ, "VETTA_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if not args.home:
        subprocess.run([str(Path(sys.executable).with_name("vetta")), "ingest", args.domain, "--starter"],
                       check=True, env=env, capture_output=True)
    questions = QUESTIONS[args.domain][: args.later + 1]
    import vetta

    report = {"machine": describe(), "vetta": str(Path(vetta.__file__).parent), "domain": args.domain,
              "runs": args.runs, "modes": {}}
    for mode in args.modes.split(","):
        runs = [run_child(args.domain, mode, questions, env) for _ in range(args.runs)]
        later = [s for run in runs for s in run["later_s"]]
        report["modes"][mode] = {
            "process_total_s_median": round(statistics.median(r["process_s"] for r in runs), 2),
            "first_ask_in_process_s_median": round(statistics.median(r["first_in_process_s"] for r in runs), 2),
            "later_ask_p50_s": round(statistics.median(later), 3) if later else None,
            "imported": runs[-1]["imported"],
            "first_abstained": runs[-1]["first_abstained"],
        }
        print(mode, report["modes"][mode], flush=True)
    print(json.dumps(report["machine"]))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
