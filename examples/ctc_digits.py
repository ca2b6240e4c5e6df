"""CTC: a bidirectional LSTM learns to read digit sequences from noisy, unaligned frames.

The application is ``graphrnn.apps.ctc_digits`` (``graphrnn train ctc_digits`` runs the same
code); this script shows it from Python: settings are one dataclass, the results one dict.

    python examples/ctc_digits.py            # 95.2% of test utterances read entirely right
"""
from graphrnn.apps.ctc_digits import Config, train

if __name__ == "__main__":
    results = train(Config(out="runs/ctc_digits", epochs=12, hidden=96))
    print(f"sequence accuracy: greedy {results['greedy_seq_acc']:.4f}, "
          f"prefix beam 8 {results['beam8_seq_acc']:.4f}")
