"""BiLSTM-CRF chunking on CoNLL-2000, then the same tagger on Chinese word segmentation.

The application is ``graphrnn.apps.tagging`` (``graphrnn train conll_chunking`` runs the same
code); this script shows it from Python: settings are one dataclass, the results one dict.

    python examples/conll_chunking.py       # chunking takes ~18 min on one CPU thread
"""
from graphrnn.apps.tagging import Config, train

if __name__ == "__main__":
    chunks = train(Config(out="runs/conll_chunking", task="chunk", crf=True, hidden=128,
                          char_channels=30, threads=1))
    print(f"chunk F1 {100 * chunks['test']['f1']:.2f} (test, conlleval)")
    # the embedded 30-sentence sample: BMES tags per character, scored as word F1
    seg = train(Config(out="runs/segmentation", task="seg", epochs=30, threads=1))
    print(f"segmentation word F1 {100 * seg['test']['f1']:.2f} on the sample's test sentences")
