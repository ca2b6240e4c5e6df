"""Long-range dependencies: remember the first of T symbols. Where do SRN, LSTM and GRU fail,
and how does the gradient reaching step k shrink with T - k?

The application is ``graphrnn.apps.long_range`` (``graphrnn train long_range`` runs the same
code); this script runs a shorter sweep from Python.

    python examples/long_range.py            # figures in runs/long_range/
"""
from graphrnn.apps.long_range import Config, train

if __name__ == "__main__":
    results = train(Config(out="runs/long_range", lengths=[10, 40, 80]))
    for run in results["runs"]:
        print(f"{run['cell']:>4} T={run['T']:<3} test accuracy {run['test_acc']}")
    print("SRN fails where LSTM and GRU succeed at T =", results["srn_fails_others_succeed"])
