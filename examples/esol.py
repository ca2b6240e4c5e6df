"""ESOL: a directed message-passing network predicts the aqueous solubility of molecules.

The application is ``graphrnn.apps.molecules`` (``graphrnn train esol`` runs the same code); this
script shows it from Python: each data set's settings are a dict in ``PRESETS`` (``"freesolv"``,
``"lipophilicity"``, ``"bbbp"``, ``"tpsa"``), the run's settings one dataclass, the results one
dict.
Your own CSV works the same way: ``Config(csv="mine.csv", target_col=["logS"])``.

    python examples/esol.py            # about 2 minutes on one CPU thread
"""
from graphrnn.apps.molecules import PRESETS, Config, train

if __name__ == "__main__":
    # the ESOL settings (D-MPNN, width 128, ensemble of 3), with the 90 RDKit descriptors
    config = Config(**PRESETS["esol"], descriptors=True, seed=0, out="runs/esol")
    results = train(config)
    print(f"ESOL test RMSE {results['test_rmse']:.3f} log mol/L "
          f"(ensemble of {results['ensemble']}, README: 0.628 for seed 0)")
