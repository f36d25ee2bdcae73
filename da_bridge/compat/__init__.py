"""Other libraries' names and semantics, thin over the da_bridge engine.

`da_bridge.compat.deep_architect` keeps DeepArchitect's modules, so that its
search spaces and search loops run with only their imports changed.
"""
