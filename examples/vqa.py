"""Visual question answering on easy-VQA: a CNN reads the picture, an LSTM the question.

The application is ``graphrnn.apps.vqa`` (``graphrnn train vqa`` runs the same code); this script
shows it from Python: settings are one dataclass, the results one dict. Needs the ``vision``
extra (``pip install "graphrnn[vision]"``, which ships the pictures).

    python examples/vqa.py            # test accuracy 99.96% (10 epochs, ~10 min on one thread)
"""
from graphrnn.apps.vqa import Config, train

if __name__ == "__main__":
    results = train(Config(out="runs/vqa/both", epochs=10, inputs="both"))
    test = results["test"]
    print(f"test accuracy {test['acc']:.4f} (shape {test['acc_shape']:.4f}, colour "
          f"{test['acc_color']:.4f}, yes/no {test['acc_yes_no']:.4f})")
