"""Tang poems: a character LSTM against Kneser-Ney N-grams, then verse from begin words.

The application is ``graphrnn.apps.poems`` (``graphrnn train poems`` and ``graphrnn generate
poems`` run the same code); this script shows it from Python: settings are one dataclass per
action, the results one dict. Measurements and a gallery are in examples/README_poems.md.

    python examples/poems.py                # ~13 min for 4 epochs on one CPU thread
"""
from graphrnn.apps.poems import Config, Generate, generate, train

if __name__ == "__main__":
    results = train(Config(out="runs/poems", threads=1))
    for row in results["table"]:
        print(f"{row['model']:<24} valid {row['valid']:7.1f}  test {row['test']:7.1f}")
    # a quatrain (5 characters a line, 4 lines) for each begin word, checked for its form
    made = generate(Generate(out="runs/poems", begin=list("日红山夜湖海月"), form="5x4",
                             check=True))
    print(f"{made['well_formed']}/{made['total']} poems well formed")
