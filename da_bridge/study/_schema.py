"""Every key a study carries, in one place: these names outlive a process.

A study records, per trial, the architecture's values map and JSON form (written by the
Optuna adapter, which owns them because `suggest_architecture` works without the runtime),
why a trial failed, was interrupted or was rejected by the space (`REJECTED_ATTR`, on
a PRUNED trial); per study, what was searched and how the command line
was called. Readers (`show`, the report, exports, the surrogate) use these names only.
"""

from __future__ import annotations

from da_bridge.adapters.optuna import ARCHITECTURE_ATTR, REJECTED_ATTR, VALUES_ATTR

#: Trial: the signal ("SIGINT"/"SIGTERM") that stopped it.
INTERRUPTED_ATTR = "da_bridge.interrupted"
#: Trial: `"ErrorType: message"` of the exception that failed it.
ERROR_ATTR = "da_bridge.error"
#: Trial: `{"what": "CV folds", "samples": [...]}`, the measurements its score is the mean of.
SAMPLES_ATTR = "da_bridge.score_samples"
#: Trial: `{"se": float, "n": int, "what": str}`, its score's standard error given directly.
SPREAD_ATTR = "da_bridge.score_spread"
#: Study: `{"<trial number>": {"seeds": [...], "samples": [...], "what": str}}`, the best
#: trials re-evaluated on more seeds (`SearchResult.confirm`, `da-bridge search --confirm`).
CONFIRMED_ATTR = "da_bridge.confirmed"
#: Trial: `{"host", "pid", "start"}` of the process running it (to fail it once that is gone).
OWNER_ATTR = "da_bridge.owner"
#: Trial: the number of the earlier trial whose architecture it repeats; its score (and the
#: measurements behind it) were copied from there, not evaluated again.
SAME_AS_ATTR = "da_bridge.same_as"
#: Study: `{"version", "digest", "hyperparameters"}`, the fingerprint of the space searched.
FINGERPRINT_ATTR = "da_bridge.fingerprint"
#: Study: `repr` of the space searched.
SPACE_ATTR = "da_bridge.space"
#: Study: `{"space": SPACE, "options": [...]}` of the `da-bridge search` call that made it.
CLI_ATTR = "da_bridge.cli"

__all__ = ["ARCHITECTURE_ATTR", "CLI_ATTR", "CONFIRMED_ATTR", "ERROR_ATTR", "FINGERPRINT_ATTR",
           "INTERRUPTED_ATTR", "OWNER_ATTR", "REJECTED_ATTR", "SAME_AS_ATTR", "SAMPLES_ATTR",
           "SPACE_ATTR", "SPREAD_ATTR", "VALUES_ATTR"]
