"""Particle dynamics: an interaction network learns one frame of 5 balls on random springs, then
is rolled out 20 frames on held-out systems of 5 and, untrained for it, 10 particles.

The application is ``graphrnn.apps.nbody`` (``graphrnn train nbody`` runs the same code);
OUT/trajectories_n5.png draws the true, learned and constant-velocity paths.

    python examples/nbody.py           # simulates once into data/nbody, then trains
"""
from graphrnn.apps.nbody import Config, train

if __name__ == "__main__":
    results = train(Config(system="springs", out="runs/nbody"))
    for n in ("n5", "n10"):
        print(f"{n}: 10-step position MSE {results[n]['ratio@10']:.0f}x below constant velocity")
