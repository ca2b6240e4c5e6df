"""Online handwriting: a BiLSTM reads pen trajectories of digits; an MDN-RNN draws new ones.

The application is ``graphrnn.apps.pendigits`` (``graphrnn train pendigits`` runs the same code);
this script shows it from Python: settings are one dataclass, the results one dict. The data are
UCI pen-based digits (``../shared/data/handwriting/pendigits``, or ``root=`` a copy).

    python examples/pendigits.py      # writer-independent test accuracy 98.91%
"""
from graphrnn.apps.pendigits import Config, train

if __name__ == "__main__":
    recognizer = train(Config(out="runs/pendigits"))
    print(f"recogniser: test accuracy {recognizer['test_acc']:.4f}")
    mdn = train(Config(out="runs/pendigits", model="mdn"))
    print(f"MDN: {mdn['samples_recognized']:.3f} of the drawn digits read as the digit asked for")
