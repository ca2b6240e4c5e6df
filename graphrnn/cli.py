"""The ``graphrnn`` command: ``list``, ``train``, ``evaluate``, ``generate``, ``predict``,
``bench``, ``tour``.

Applications come from the package's registry (:mod:`graphrnn.apps`), so the command works the
same from an installed wheel and from a source checkout. Benchmarks are the modules of
:mod:`graphrnn.bench`, each with ``run(argv)``.

A failure prints one line naming what was wrong; ``GRAPHRNN_DEBUG=1`` shows the traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import apps

BENCHMARKS = {
    "chain": ("graphrnn.bench.chain", "chain RNNs against torch.nn (fused and generic engines)"),
    "tree": ("graphrnn.bench.tree", "batched tree schedule against per-node recursion on SST"),
    "graph": ("graphrnn.bench.graph", "graph-network block against PyG's MetaLayer"),
    "schedule": ("graphrnn.bench.schedule", "scheduling a 1,000,000-node batch on one core"),
    "lm": ("graphrnn.bench.lm", "word LM training tokens/s against the same model in torch.nn"),
}
ACTIONS = ("train", "evaluate", "generate", "predict")


def _bench(suite: str, argv: list[str]) -> int:
    module = importlib.import_module(BENCHMARKS[suite][0])
    module.run(argv)
    return 0


def _print_list() -> None:
    print("applications (graphrnn train|evaluate|generate|predict NAME):")
    for name, description in apps.available().items():
        print(f"  {name:<16} {description}")
    print("benchmarks (graphrnn bench SUITE):")
    for name, (_, description) in BENCHMARKS.items():
        print(f"  {name:<16} {description}")


def _interrupted(command: str, name: str | None, argv: list[str]) -> int:
    """Ctrl-C: say where the last good checkpoint is and how to go on."""
    if command == "train" and name:
        out = apps.parse(name, "train", argv)[0].out  # parsed as the run was: presets, defaults
        last = os.path.join(out, "last.pt")
        if os.path.isfile(last):
            resume = " ".join(["graphrnn", "train", name, *argv,
                               *([] if "--resume" in argv else ["--resume"])])
            print(f"\ninterrupted; the last finished epoch is in {last}; "
                  f"continue with:\n  {resume}",
                  file=sys.stderr)
            return 130
    print("\ninterrupted", file=sys.stderr)
    return 130


def _dispatch(args, rest: list[str]) -> int:
    help_flag = ["--help"] if args.help else []
    if args.command == "bench":
        if args.suite is None:
            print("usage: graphrnn bench SUITE [options]; SUITE is one of: "
                  + ", ".join(f"{name} ({text})" for name, (_, text) in BENCHMARKS.items()))
            return 0 if args.help else 2
        return _bench(args.suite, rest + help_flag)
    if args.command == "tour":
        from .apps.tour import run as tour
        return tour(rest + help_flag)
    if args.name is None:
        print(f"usage: graphrnn {args.command} NAME [options]; NAME is one of: "
              + ", ".join(apps.available()))
        return 0 if args.help else 2
    try:
        apps.resolve_name(args.name)
    except KeyError as err:
        raise SystemExit(f"graphrnn {args.command}: {err.args[0]}") from None
    result = apps.call(args.name, args.command, rest + help_flag)
    return result if isinstance(result, int) else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="graphrnn", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the applications and benchmarks")
    for action in ACTIONS:
        p = sub.add_parser(action, help=f"{action} an application (graphrnn {action} NAME --help)",
                           add_help=False)
        p.add_argument("name", nargs="?")
        p.add_argument("-h", "--help", action="store_true")
    p = sub.add_parser("bench", help="run a benchmark suite (graphrnn bench SUITE --help)",
                       add_help=False)
    p.add_argument("suite", nargs="?", choices=sorted(BENCHMARKS))
    p.add_argument("-h", "--help", action="store_true")
    sub.add_parser("tour", help="train one small model of each family on embedded data",
                   add_help=False).add_argument("-h", "--help", action="store_true")
    args, rest = parser.parse_known_args(argv)
    if args.command == "list":
        _print_list()
        return 0
    name = getattr(args, "name", None)
    try:
        return _dispatch(args, rest)
    except KeyboardInterrupt:
        return _interrupted(args.command, name, rest)
    except SystemExit:
        raise
    except Exception as err:  # one line for the user; the traceback on request
        if os.environ.get("GRAPHRNN_DEBUG"):
            raise
        what = " ".join(x for x in ("graphrnn", args.command, name) if x)
        print(f"{what}: error: {err}\n(GRAPHRNN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
