"""TPSA: a message-passing network whose per-atom outputs are summed learns the topological polar
surface area (Ertl et al. 2000) of the ~5,000 NCI molecules rdkit ships (no download).

The application is ``graphrnn.apps.molecules`` with the ``tpsa`` preset (``graphrnn train tpsa``).

    python examples/tpsa.py            # a few minutes on one CPU thread
"""
from graphrnn.apps.molecules import PRESETS, Config, train

if __name__ == "__main__":
    results = train(Config(**PRESETS["tpsa"], seed=0, out="runs/tpsa"))
    print(f"TPSA test MAE {results['test_mae']:.3f} A^2 (README: 0.484, 20 epochs)")
