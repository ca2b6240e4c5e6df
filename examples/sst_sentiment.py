"""Sentiment of movie reviews with a constituency Tree-LSTM on the Stanford Sentiment Treebank.

The application is ``graphrnn.apps.sst`` (``graphrnn train sst`` runs the same code); this script
shows it from Python: settings are one dataclass, the results one dict. It trains the
fine-grained (5-class) model, then scores the best checkpoint on the test split again.

    python examples/sst_sentiment.py        # ~12 s an epoch on one CPU thread, 6-9 epochs
"""
from graphrnn.apps.sst import Config, Evaluate, evaluate, train

if __name__ == "__main__":
    results = train(Config(out="runs/sst", seed=0, threads=1))
    print(f"test root accuracy {results['test_root_acc']:.4f} after {results['epochs']} epochs "
          f"({results['seconds_per_epoch']:.1f} s each); the tree: runs/sst/dev_tree.png")
    evaluate(Evaluate(out="runs/sst", checkpoint=["runs/sst/best.pt"]))
