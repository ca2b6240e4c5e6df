"""Learn2Carry: a GRU learns to add integers digit by digit, then adds 30-digit numbers.

The application is ``graphrnn.apps.addition`` (``graphrnn train addition`` runs the same code);
this script shows it from Python: settings are one dataclass, the results one dict.

    python examples/addition.py            # about a minute on one CPU thread
"""
from graphrnn.apps.addition import Config, train

if __name__ == "__main__":
    results = train(Config(out="runs/addition", epochs=20, cell="gru", hidden=32))
    for test, r in results.items():
        if isinstance(r, dict):
            print(f"{test}: exact match {r['exact_match']:.4f}")
