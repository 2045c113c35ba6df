"""The ``reference mutation-score`` command: the suite against every fault of the reference instance."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from conformance._lib.arguments import MAX_WORKERS, count_of

__all__ = ["register"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(commands: Any) -> None:
    """Add ``mutation-score`` to the ``reference`` subcommands."""
    mutation = commands.add_parser(
        "mutation-score",
        help="run the suite against every fault: faults killed, and the faults that kill each check",
        description=(
            "Start the reference instance once per fault, run the suite against it (--strict) and "
            "report the faults killed, the faults that kill each check id, the check ids no fault kills "
            "and the runs that disagree with the fault table. Exit 0 when every fault is killed, every "
            "killable check id is killed and the table is confirmed; 1 otherwise."
        ),
    )
    mutation.add_argument("--format", choices=("text", "json"), default="text")
    mutation.add_argument(
        "--workers",
        type=count_of("runs at a time", most=MAX_WORKERS),
        default=4,
        metavar="N",
        help=f"runs at a time, 1 to {MAX_WORKERS} (4)",
    )
    mutation.add_argument(
        "--fault", action="append", default=[], metavar="NAME", help="only this fault (repeatable)"
    )
    mutation.add_argument("--seed", type=int, help="seed for the suite's generated values, in every run")
    mutation.set_defaults(func=cmd_mutation_score)


def _complain(text: str) -> None:
    sys.stderr.write(f"reference: error: {text}\n")
    sys.stderr.flush()


def cmd_mutation_score(args: argparse.Namespace) -> int:
    from conformance.reference import faults as fault_table
    from conformance.reference.cli import missing_reference_extra

    unknown = fault_table.unknown(args.fault)
    if unknown:
        known = ", ".join(fault.name for fault in fault_table.FAULTS)
        _complain(f"unknown fault {', '.join(repr(name) for name in unknown)}; known faults: {known}")
        return EXIT_USAGE
    missing = missing_reference_extra()
    if missing:
        _complain(missing)
        return EXIT_USAGE
    from conformance.selftest import mutation

    chosen = [fault for fault in fault_table.FAULTS if not args.fault or fault.name in args.fault]
    done = 0

    def progress(fault: fault_table.Fault, run: mutation.FaultRun) -> None:
        nonlocal done
        done += 1
        state = "killed" if run.killed else "SURVIVED"
        sys.stderr.write(f"[{done}/{len(chosen)}] {fault.name}: {state} (exit {run.exit_code})\n")
        sys.stderr.flush()

    started = time.monotonic()
    runs = mutation.run_faults(chosen, workers=args.workers, seed=args.seed, on_done=progress)
    report = mutation.score(runs, seconds=time.monotonic() - started, workers=args.workers)
    text = json.dumps(report.as_json(), indent=2) if args.format == "json" else report.as_text()
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return EXIT_OK if report.ok else EXIT_FAILED
