"""Figures (matplotlib, written as PNG): tree predictions, trajectories, gradient flow."""
