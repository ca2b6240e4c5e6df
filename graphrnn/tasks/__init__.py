"""Tasks: heads, losses, decoders (greedy, beam, CTC), metrics and baselines (the N-gram).

No models, data sets, plots or drivers here: application models are in :mod:`graphrnn.models`,
data sets in :mod:`graphrnn.datasets`, the applications in :mod:`graphrnn.apps`.
"""
