import json
import subprocess
import sys

import pytest

FRAMEWORKS = ("optuna", "hyperopt", "skopt", "sklearn", "keras", "tensorflow", "graphviz")

SCRIPT = """
import json, sys
import {module}
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("module", ["da_bridge", "da_bridge.spaces.examples"])
def test_importing_the_engine_imports_no_framework(module):
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(module=module)],
                            capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    assert module in loaded
    assert [name for name in loaded if name.split(".")[0] in FRAMEWORKS] == []
