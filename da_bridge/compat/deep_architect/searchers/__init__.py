"""DeepArchitect's searchers: `sample()` / `update(val, token)` over da_bridge's searchers."""
