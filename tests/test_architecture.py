"""The layer rule of docs/architecture.md, checked on every module's imports.

Every ``import`` / ``from ... import`` statement of every module under ``sfone/`` counts, also
the ones inside functions (lazy imports) and under ``if TYPE_CHECKING:``. Each module belongs to
one layer (:data:`LAYERS`, longest prefix wins); a module may import its own layer and the ones
below, never a higher one, and no group of modules may import each other in a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sfone"

#: layer names, lowest first (the rank is the position)
ORDER = ("core", "contract", "io", "analysis", "figures", "app")

#: module (or package prefix) -> layer; keep docs/architecture.md in step
LAYERS = {
    # core: version, errors, logging, atomic writes, argument checks, input guards, plugins
    "sfone": "core",  # the root package: only __version__ may be imported from it
    "sfone.exceptions": "core",
    "sfone._logging": "core",
    "sfone._atomic": "core",
    "sfone._output_dir": "core",  # output folders sfone may replace (marker file)
    "sfone._validate": "core",
    "sfone._plugins": "core",
    "sfone._options": "core",
    "sfone._hdf5": "core",
    "sfone._docs": "core",  # shared docstring paragraphs (fill_doc)
    "sfone._guard": "core",
    # contract: what a Dataset, a footprint, a protocol and a calorimetry variable are
    "sfone.schema": "contract",
    "sfone.footprints": "contract",
    "sfone.protocols": "contract",
    "sfone.sampling": "contract",  # plausible sampling rates per modality, the one rate check
    # io: files in and out
    "sfone.io": "io",
    "sfone.nwb": "io",
    "sfone.extract": "io",
    "sfone.cohort": "io",
    # analysis: Datasets in, results out
    "sfone.classify": "analysis",
    "sfone.calorimetry": "analysis",
    "sfone.stats": "analysis",  # the package: proportions, magnitude, headline, GLMM, group tests
    "sfone._robust_fit": "analysis",
    "sfone.tracking": "analysis",
    "sfone.imaging": "analysis",
    "sfone.photometry": "analysis",
    "sfone._dff_checks": "analysis",  # dF/F input and orientation checks
    "sfone.perievent": "analysis",
    "sfone.events": "analysis",
    "sfone.experiment_tables": "analysis",
    "sfone.simulate": "analysis",
    "sfone.summary": "analysis",
    # figures and the report
    "sfone.figures": "figures",
    "sfone.reproduce.figures": "figures",  # FIGURE_SPECS: what each reproduce figure draws
    "sfone.reproduce.report": "figures",  # stats.csv and report.html
    # app: command line, batch runs, studies
    "sfone.cli": "app",
    "sfone.__main__": "app",
    "sfone.batch": "app",  # manifest -> tasks -> run -> combine (sfone/batch/)
    "sfone.reproduce": "app",  # the package; its study, analyses, provenance, pipeline modules
}


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` under ``package`` (``__init__`` = the
    package itself)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _targets(module: str, is_package: bool, node, modules) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for one import statement, sfone modules only."""
    found = []
    if isinstance(node, ast.Import):
        found = [(alias.name, []) for alias in node.names]
    else:
        if node.level:
            base = module.split(".")
            if not is_package:
                base = base[:-1]
            base = base[:len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        for alias in node.names:  # `from pkg import submodule` imports the submodule
            sub = f"{target}.{alias.name}"
            found.append((sub, []) if sub in modules else (target, [alias.name]))
    out = []
    for name, names in found:
        if name != "sfone" and not name.startswith("sfone."):
            continue
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        out.append((name, names))
    return out


def import_graph(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[str]]:
    """Module -> sfone modules it imports (anywhere in the file), and the ``from sfone import
    X`` uses of the root package (``module: X``)."""
    graph, root_names = {}, []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target, names in _targets(module, path.name == "__init__.py", node, modules):
                    if target == "sfone" and module != "sfone":
                        root_names += [f"{module}: {n}" for n in names or ["(the package)"]]
                    imported.add(target)
        imported.discard(module)
        graph[module] = imported
    return graph, root_names


def layer_of(module: str) -> str:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        layer = LAYERS.get(".".join(parts[:i]))
        if layer is not None:
            return layer
    raise KeyError(module)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.fixture(scope="module")
def graph():
    modules = module_files()
    return modules, *import_graph(modules)


def test_the_parser_sees_top_level_lazy_and_relative_imports(graph):
    _, edges, _ = graph
    assert "sfone.cohort" in edges["sfone.batch.run"]  # top level, relative (`from ..cohort`)
    assert "sfone.batch.builtin" in edges["sfone.batch.registry"]  # inside a function
    assert "sfone.io.calorimetry._common" in edges["sfone.io.calorimetry.calr"]  # `from ._x`
    assert "sfone.cli" in edges["sfone.__main__"]


def test_cycle_check_finds_a_planted_cycle():
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert cycles(planted) == [["a", "b", "c"]]
    assert cycles({"x": {"y"}, "y": {"x"}}) == [["x", "y"]]


def test_every_module_has_a_layer(graph):
    modules, _, _ = graph
    missing = []
    for module in modules:
        try:
            layer_of(module)
        except KeyError:
            missing.append(module)
    assert not missing, (f"{missing}: give each a layer in LAYERS (tests/test_architecture.py) "
                         "and docs/architecture.md")
    assert set(LAYERS.values()) <= set(ORDER)


def test_no_module_imports_a_higher_layer(graph):
    _, edges, _ = graph
    rank = {name: i for i, name in enumerate(ORDER)}
    upward = sorted(f"{module} ({layer_of(module)}) imports {target} ({layer_of(target)})"
                    for module, targets in edges.items() for target in targets
                    if rank[layer_of(target)] > rank[layer_of(module)])
    assert not upward, "\n".join(upward)


def test_only_the_version_comes_from_the_root_package(graph):
    _, _, root_names = graph
    assert all(use.endswith(": __version__") for use in root_names), root_names


def test_no_import_cycles(graph):
    _, edges, _ = graph
    assert cycles(edges) == []


def test_post_run_label_names_are_defined_once():
    """The label set lives in the data contract (schema.POST_RUN_LABELS); no module spells the
    tuple out again (issue 17, move 3)."""
    root = Path(__file__).resolve().parents[1] / "sfone"
    pattern = re.compile(r"""["']activated["'],\s*["']inhibited["'],\s*["']unchanged["']""")
    spelled = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if pattern.search(p.read_text(encoding="utf-8"))]
    assert spelled == ["schema.py"], spelled
