"""An encoder-decoder with attention learns addition as characters: "123+456" -> "579".

The application is ``graphrnn.apps.seq2seq_addition`` (``graphrnn train seq2seq_addition`` runs
the same code); this script shows it from Python, then decodes a few expressions of its own.

    python examples/seq2seq_addition.py      # 99.7% exact match on 5,000 held-out sums
"""
from graphrnn.apps.seq2seq_addition import Config, build_model, train
from graphrnn.datasets.sequences import AdditionExpressions, collate_seq2seq
from graphrnn.train import load_checkpoint

if __name__ == "__main__":
    config = Config(out="runs/seq2seq_addition", epochs=14, batch_size=256, lr=4e-3)
    results = train(config)
    print(f"greedy exact match {results['greedy_exact']:.4f}, beam {results['beam4_exact']:.4f}")

    # decode expressions of our own with the trained weights
    data = AdditionExpressions("test", digits=config.digits)
    vocab = data.vocab
    model = build_model(config, vocab).eval()
    model.load_state_dict(load_checkpoint(f"{config.out}/best.pt")["model"])
    batch = collate_seq2seq([data.encode(a, b) for a, b in [(123, 456), (999, 1), (57, 605)]])
    for src, out in zip(batch.src, model.generate(batch.src, batch.src_lengths, max_len=6)):
        print("".join(vocab.decode(src)), "=", "".join(vocab.decode(out)))
