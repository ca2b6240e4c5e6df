"""ESOL: a directed message-passing network predicts the aqueous solubility of molecules, beside
the fingerprint baselines (training mean, ridge, random forest) on the same split.

The application is ``graphrnn.apps.molecules`` (``graphrnn train esol`` runs the same code); this
script shows it from Python. The run's settings are one dataclass whose defaults are the library's
documented configuration (D-MPNN, width 128, RDKit descriptors on the readout, ensemble of 3);
each named data set's own settings are a dict in ``PRESETS`` (``"freesolv"``, ``"lipophilicity"``,
``"bbbp"``, ``"tpsa"``); the results are one dict. Target and descriptor scaling happen inside
(``MoleculeModel.fit_scaling``). Your own CSV works the same way:
``Config(csv="mine.csv", target_col=["logS"])``.

    python examples/esol.py            # a few minutes on one CPU thread
"""
from graphrnn.apps.molecules import PRESETS, Config, train

if __name__ == "__main__":
    config = Config(**PRESETS["esol"], split="scaffold", seed=0, out="runs/esol_scaffold")
    results = train(config)
    forest = next(b for b in results["baselines"] if b["method"] == "random forest")
    print(f"ESOL scaffold split, test RMSE: network {results['test_rmse']:.3f}, random forest "
          f"{forest['test_rmse']:.3f} log mol/L (parity plot: {config.out}/parity.png)")
