"""Adapters that drive da_bridge search spaces from Optuna, Hyperopt and scikit-optimize."""
