"""The ``graphrnn`` command: ``list``, ``train``, ``evaluate``, ``generate``, ``bench``, ``tour``.

Examples are the flat scripts in the repository's ``examples/`` folder. Each defines ``DESCRIPTION``
(one line) and any of ``train(argv)``, ``evaluate(argv)``, ``generate(argv)``; the command finds
them by name (``graphrnn train sst`` runs ``examples/sst.py``'s ``train``). Benchmarks are the
modules of :mod:`graphrnn.bench`, each with ``run(argv)``.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

BENCHMARKS = {
    "chain": ("graphrnn.bench.chain", "chain RNNs against torch.nn (fused and generic engines)"),
    "tree": ("graphrnn.bench.tree", "batched tree schedule against per-node recursion on SST"),
    "graph": ("graphrnn.bench.graph", "graph-network block against PyG's MetaLayer"),
    "schedule": ("graphrnn.bench.schedule", "scheduling a 1,000,000-node batch on one core"),
}
ACTIONS = ("train", "evaluate", "generate")
# Short names the issues and the README use for examples whose file name says more.
ALIASES = {"sst": "sst_sentiment", "moleculenet": "esol", "chunking": "conll_chunking"}


def examples_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "examples"


def load_example(name: str):
    name = ALIASES.get(name, name)
    path = examples_dir() / f"{name}.py"
    if not path.is_file():
        known = ", ".join(sorted(available_examples())) or "none found"
        raise SystemExit(f"graphrnn: no example named {name!r} (known: {known}); examples live in "
                         f"{examples_dir()} of a source checkout (pip install -e .)")
    spec = importlib.util.spec_from_file_location(f"graphrnn_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def available_examples() -> dict[str, str]:
    """Example name -> its one-line description (read without importing the script)."""
    found = {}
    folder = examples_dir()
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        if path.name.startswith("_"):
            continue
        description = ""
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("DESCRIPTION"):
                description = line.split("=", 1)[1].strip().strip("\"'")
                break
        found[path.stem] = description
    return found


def _run_action(action: str, name: str, argv: list[str]) -> int:
    module = load_example(name)
    fn = getattr(module, action, None)
    if fn is None:
        raise SystemExit(f"graphrnn: example {name!r} has no {action!r}; it offers: "
                         + ", ".join(a for a in ACTIONS if hasattr(module, a)))
    result = fn(argv)
    return result if isinstance(result, int) else 0


def _bench(suite: str, argv: list[str]) -> int:
    module_name, _ = BENCHMARKS[suite]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        raise SystemExit(f"graphrnn: benchmark {suite!r} is not available ({err})") from err
    module.run(argv)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="graphrnn", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the examples and benchmarks")
    for action in ACTIONS:
        p = sub.add_parser(action, help=f"{action} an example (graphrnn {action} NAME --help)",
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
        print("examples (graphrnn train|evaluate|generate NAME):")
        for name, description in available_examples().items():
            print(f"  {name:<16} {description}")
        print("benchmarks (graphrnn bench SUITE):")
        for name, (_, description) in BENCHMARKS.items():
            print(f"  {name:<16} {description}")
        return 0
    if args.command == "bench":
        if args.suite is None:
            print("usage: graphrnn bench SUITE [options]; SUITE is one of: "
                  + ", ".join(f"{name} ({text})" for name, (_, text) in BENCHMARKS.items()))
            return 0 if args.help else 2
        return _bench(args.suite, rest + (["--help"] if args.help else []))
    if args.command == "tour":
        from .tour import run as tour
        return tour(rest + (["--help"] if args.help else []))
    if args.name is None:
        print(f"usage: graphrnn {args.command} NAME [options]; NAME is one of: "
              + ", ".join(available_examples()))
        return 0 if args.help else 2
    return _run_action(args.command, args.name, rest + (["--help"] if args.help else []))


if __name__ == "__main__":
    raise SystemExit(main())
