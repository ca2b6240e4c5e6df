"""English-Chinese translation: a BiLSTM encoder and an attention decoder against a Transformer
trained for the same time.

The application is ``graphrnn.apps.translation`` (``graphrnn train translation`` runs the same
code); this script shows it from Python: settings are one dataclass, the results one dict. Needs
the ``translation`` extra (sacrebleu computes BLEU).

    python examples/translation.py
"""
from graphrnn.apps.translation import Config, train

if __name__ == "__main__":
    budget = dict(hidden=128, embedding_dim=128, dropout=0.1, time_budget=480, epochs=30)
    models = (("rnn", dict(lr=2e-3)), ("transformer", dict(lr=1e-3, layers=2, feedforward=256)))
    for model, options in models:
        results = train(Config(out=f"runs/translation/en-zh-{model}", direction="en-zh",
                               model=model, **options, **budget))
        print(f"{model}: test BLEU greedy {results['test_bleu_greedy']:.2f}")
