"""Application models built from :mod:`graphrnn.nn`: one module per model family, each with its
loss (the ``step`` the training loop calls) and its evaluation routine."""
