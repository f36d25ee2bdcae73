"""DeepArchitect's API (negrinho/deep_architect), thin over the da_bridge engine.

The layout mirrors DeepArchitect's package: `core`, `hyperparameters`,
`modules`, `searchers.common`, `searchers.random`,
`searchers.regularized_evolution`, `searchers.mcts`, `searchers.smbo_random`,
`searchers.smbo_mcts` (over `da_bridge.adapters.smbo`; scikit-learn is imported when a
surrogate is first trained) and `search_logging`.
Change `import deep_architect.core as co` into
`import da_bridge.compat.deep_architect.core as co` and the code runs; the
porting guide (docs/coming_from/deep_architect.md) lists the names kept,
renamed and dropped, and the semantics that differ:

- A search space is built inside `modules.SearchSpaceFactory` (or a
  searcher), which gives it a private naming scope instead of DeepArchitect's
  global `Scope.default_scope`.
- Names are paths (`Motif_Level_3.0_1`), and a hyperparameter's `name=` is a
  prefix: the same name twice gives `Mutatable_sub`, `Mutatable_sub-2`.
- A substitution function that raises `ValueError` rejects the architecture
  (`InvalidArchitectureError`): searchers draw again, as DeepArchitect's MCTS did.
- Searchers maximize the value given to `update`, as in DeepArchitect.
"""
