import ast
import json
import pathlib
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


# The layers, by where a module lives. Imports point one way: engine <- adapters <- runtime
# <- report/CLI; domains use the engine and the runtime's public modules.
ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = {"da_bridge": ROOT / "da_bridge", "da_bridge.adapters": ROOT / "adapters",
            "da_bridge.spaces": ROOT / "spaces"}
UPPER = ("da_bridge.study", "da_bridge.adapters", "da_bridge.spaces", "da_bridge.cli",
         "da_bridge.report", "da_bridge.viz", "da_bridge.compat")
FORBIDDEN = {  # layer -> packages it must not import
    "engine": UPPER,
    "adapters": ("da_bridge.study", "da_bridge.spaces", "da_bridge.cli", "da_bridge.report"),
    # DeepArchitect's API: over the engine, and its SMBO searchers over the SMBO adapter
    "compat": ("da_bridge.study", "da_bridge.spaces", "da_bridge.cli", "da_bridge.report"),
    "runtime": ("da_bridge.spaces", "da_bridge.cli", "da_bridge.report"),
    "domains": ("da_bridge.cli", "da_bridge.report"),
    "report": ("da_bridge.cli",),
    "viz": ("da_bridge.study", "da_bridge.adapters", "da_bridge.spaces", "da_bridge.cli",
            "da_bridge.report"),
}
#: Function-level imports of our own modules that are allowed, and why.
LAZY_OWN_IMPORTS = {
    ("da_bridge.adapters.optuna", "da_bridge.adapters._snapshot"),  # imports optuna eagerly
    ("da_bridge.adapters.skopt", "da_bridge.adapters._skopt_fast"),  # imports skopt eagerly
    # its layer classes subclass keras.layers.Layer, so it imports keras when imported
    ("da_bridge.spaces.augment.compile", "da_bridge.spaces.augment.layers"),
    ("da_bridge.spaces.augment.evaluate", "da_bridge.spaces.augment.layers"),
}


def _modules():
    for base, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if base == "da_bridge" and parts[0] in ("adapters", "spaces"):
                continue
            name = ".".join((base, *parts)).removesuffix(".__init__")
            yield name, path.name == "__init__.py", ast.parse(path.read_text())


def _layer(module: str) -> str:
    for prefix, layer in (("da_bridge.study", "runtime"), ("da_bridge.adapters", "adapters"),
                          ("da_bridge.spaces", "domains"), ("da_bridge.cli", "cli"),
                          ("da_bridge.report", "report"), ("da_bridge.viz", "viz"),
                          ("da_bridge.compat", "compat")):
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return "engine"


def _imports(name: str, is_package: bool, tree: ast.Module):
    """`(imported module, imported names, at top level?)` for every import of da_bridge."""
    package = name if is_package else name.rsplit(".", 1)[0]
    top = {id(n) for n in tree.body} | {id(n) for node in tree.body if isinstance(node, ast.If)
                                        for n in node.body}  # `if TYPE_CHECKING:` blocks
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            target, names = node.names[0].name, []
        else:
            continue
        if target == "da_bridge" or target.startswith("da_bridge."):
            yield target, names, id(node) in top


MODULES = list(_modules())


def test_layers_import_only_inward():
    wrong = []
    for name, is_package, tree in MODULES:
        if name in ("da_bridge", "da_bridge.__main__"):  # the public facade and the entry point
            continue
        layer = _layer(name)
        for target, names, _ in _imports(name, is_package, tree):
            targets = [target] + [f"{target}.{n}" for n in names]
            for t in targets:
                if layer != "cli" and (t == "da_bridge.cli" or t.startswith("da_bridge.cli.")):
                    wrong.append(f"{name} imports the CLI ({t})")
                for banned in FORBIDDEN.get(layer, ()):
                    if t == banned or t.startswith(banned + "."):
                        wrong.append(f"{name} ({layer}) imports {t}")
    assert sorted(set(wrong)) == []


def test_no_private_names_across_packages():
    """`_private` modules and names are imported only from inside their own package tree."""
    wrong = []
    for name, is_package, tree in MODULES:
        package = name if is_package else name.rsplit(".", 1)[0]
        for target, names, _ in _imports(name, is_package, tree):
            parts = target.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_"):
                    owner = ".".join(parts[:i])
                    if not (package == owner or package.startswith(owner + ".")):
                        wrong.append(f"{name} imports {target}")
            owner = target.rsplit(".", 1)[0]  # a private name is private to its package
            for n in names:
                if n.startswith("_") and n != "__version__" and not (
                        package in (target, owner) or package.startswith(owner + ".")):
                    wrong.append(f"{name} imports {n} from {target}")
    assert sorted(set(wrong)) == []


def test_own_modules_are_imported_at_the_top():
    lazy = {(name, target) for name, is_package, tree in MODULES
            for target, _, at_top in _imports(name, is_package, tree) if not at_top}
    assert lazy <= LAZY_OWN_IMPORTS, sorted(lazy - LAZY_OWN_IMPORTS)
