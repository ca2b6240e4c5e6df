"""graphrnn: recurrent networks as one recurrence run over a graph.

Every model is ``h_v = cell(x_v, AGG{h_u : u -> v})`` evaluated in the order a schedule gives.
Layers (imports point one way; tests/test_layers.py holds it): io -> structures -> schedule ->
kernels -> cells -> engine -> nn -> datasets -> tasks -> models -> train -> plots -> bench -> apps
-> cli.
"""

__version__ = "0.1.0"
