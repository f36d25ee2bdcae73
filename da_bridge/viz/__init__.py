"""Drawings of architectures, partial instances, and how a space unfolds, with Graphviz.

Modules are boxes that list their property values (blue for basic modules,
dashed orange for substitution modules that still wait for a value, grey for
identities); hyperparameters are ellipses linked by dotted edges to the
modules that use them, and dependent hyperparameters (double border) by dashed
edges to their parents. In a partial instance the hyperparameter `next()`
returns is outlined in red. `draw_unfolding` renders one frame per
assignment, as DeepArchitect's `draw_graph_evolution` does, and a page that
steps through them.

Graphviz is imported when a drawing is made, never by `import da_bridge`.
"""

from da_bridge.viz._dot import draw, render, to_graphviz
from da_bridge.viz._unfolding import UnfoldingFrames, draw_unfolding, unfold_values

__all__ = ["UnfoldingFrames", "draw", "draw_unfolding", "render", "to_graphviz", "unfold_values"]
