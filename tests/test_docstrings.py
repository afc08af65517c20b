"""Every public callable of sfone has a numpydoc docstring that documents its parameters.

"Public" means importable without an underscore: the names of ``sfone.__all__`` (the lazy table),
and the ``__all__`` (or, without one, the non-underscore names defined there) of every public module
and subpackage. Methods count when the class is public and the method name has no underscore; a
class documents its constructor parameters in the class docstring (numpydoc convention).

Checked for each: a one-line summary; a ``Parameters`` section that lists every signature
parameter with a type, in signature order, and no name the signature lacks (dataclasses and
pydantic models may use ``Attributes``); a ``Returns`` (or ``Yields``) section when the function
returns a value. Property getters need only the summary.

numpydoc is not a dependency, so the sections are parsed here with a small parser that follows the
numpydoc layout: a header line, a line of dashes, then ``name : type`` entries.

Run ``python tests/test_docstrings.py`` for the coverage numbers and every missing item.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import sfone

ROOT = Path(sfone.__file__).resolve().parent

LEAD_OWNED: tuple[str, ...] = ()

# Public modules whose docstrings are not yet in numpydoc form (issue 17 move 8). Shrink only.
TODO: tuple[str, ...] = ()

SECTION = re.compile(r"^(?P<name>[A-Z][A-Za-z ]+)\n(?P<rule>-{3,})\s*$", re.M)
ENTRY = re.compile(r"^(?P<names>\*{0,2}[A-Za-z_][\w., *]*?)(?:\s*:\s*(?P<type>\S.*))?$")


def _excluded(module_name: str) -> bool:
    return any(module_name == m or module_name.startswith(m + ".") for m in LEAD_OWNED + TODO)


def public_modules() -> list[str]:
    """Names of every public module of sfone, found by walking the package."""
    names = ["sfone"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="sfone."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


def _public_names(module) -> list[str]:
    if module.__name__ == "sfone":
        return list(module._LAZY)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, value in vars(module).items() if not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__]


def _owner_module(obj) -> str:
    return getattr(obj, "__module__", "") or ""


PROPERTIES: set[int] = set()  # property getters: a summary line is their whole docstring


def public_callables(*, everything: bool = False) -> dict[str, object]:
    """``qualified name -> object`` for every public function, class and method (deduplicated).

    ``everything=True`` includes the modules of the allow-lists (for the coverage report).
    """
    excluded = (lambda name: False) if everything else _excluded
    found: dict[int, tuple[str, object]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module_name in public_modules():
            if excluded(module_name):
                continue
            module = importlib.import_module(module_name)
            for name in _public_names(module):
                obj = getattr(module, name)
                if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                    continue  # constants and instances document themselves in the module text
                if not _owner_module(obj).startswith("sfone") or excluded(_owner_module(obj)):
                    continue
                found.setdefault(id(obj), (f"{module_name}.{name}", obj))
                if inspect.isclass(obj):
                    for attr, member in vars(obj).items():
                        if attr.startswith("_"):
                            continue
                        if isinstance(member, staticmethod | classmethod):
                            member = member.__func__
                        if isinstance(member, property):
                            member = member.fget
                            PROPERTIES.add(id(member))
                        if inspect.isfunction(member):
                            found.setdefault(id(member), (f"{module_name}.{name}.{attr}", member))
    return dict(sorted(found.values(), key=lambda item: item[0]))


def sections(doc: str) -> dict[str, list[tuple[str, str | None]]]:
    """numpydoc sections of ``doc``: ``header -> [(entry name, entry type), ...]``."""
    doc = inspect.cleandoc(doc)
    matches = list(SECTION.finditer(doc))
    out: dict[str, list[tuple[str, str | None]]] = {}
    for index, match in enumerate(matches):
        if len(match["rule"]) != len(match["name"]):
            continue
        end = matches[index + 1].start() if index + 1 < len(matches) else len(doc)
        body = doc[match.end():end].strip("\n")
        entries = []
        for line in body.splitlines():
            if not line.strip() or line.startswith((" ", "\t")):
                continue
            entry = ENTRY.match(line.rstrip())
            if entry:
                for part in entry["names"].split(","):
                    entries.append((part.strip(), entry["type"]))
        out[match["name"]] = entries
    return out


def _signature_parameters(obj) -> list[str]:
    target = obj
    if inspect.isclass(obj):
        if "__init__" in vars(obj) and inspect.isfunction(vars(obj)["__init__"]):
            target = vars(obj)["__init__"]
        elif "__new__" in vars(obj) and inspect.isfunction(vars(obj)["__new__"]):
            target = vars(obj)["__new__"]
        elif hasattr(obj, "__dataclass_fields__") or hasattr(obj, "model_fields") or (
                issubclass(obj, tuple) and hasattr(obj, "_fields")):
            target = obj
        else:
            return []  # inherited constructor (exceptions, enums): documented where defined
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return []
    names = []
    bound = inspect.isfunction(target) and "." in target.__qualname__.replace(".<locals>.", "")
    for index, parameter in enumerate(signature.parameters.values()):
        if bound and index == 0 and parameter.name in ("self", "cls"):
            continue
        prefix = {inspect.Parameter.VAR_POSITIONAL: "*",
                  inspect.Parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "")
        names.append(prefix + parameter.name)
    return names


def _returns_value(func) -> bool:
    """True when ``func`` has a ``return <value>`` or ``yield`` of its own (nested defs excluded)."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return False
    tree = ast.parse(source)
    node = tree.body[0]

    def walk(nodes):
        for child in nodes:
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
                continue
            if isinstance(child, ast.Return) and child.value is not None and not (
                    isinstance(child.value, ast.Constant) and child.value.value is None):
                return True
            if isinstance(child, ast.Yield | ast.YieldFrom):
                return True
            if walk(ast.iter_child_nodes(child)):
                return True
        return False

    return walk(node.body)


def problems(name: str, obj) -> list[str]:
    """What the docstring of ``obj`` lacks, as readable sentences (empty when complete)."""
    doc = inspect.getdoc(obj) if not inspect.isclass(obj) else obj.__doc__
    if not doc or not doc.strip():
        return [f"{name}: no docstring"]
    found = []
    lines = inspect.cleandoc(doc).splitlines()
    if not lines[0].strip() or (len(lines) > 1 and set(lines[1].strip()) == {"-"}):
        found.append(f"{name}: no one-line summary")
    parsed = sections(doc)
    expected = _signature_parameters(obj)
    if inspect.isclass(obj) and not expected:
        return found
    documented = {entry for entry, _ in parsed.get("Parameters", [])}
    documented |= {entry.lstrip("*") for entry in documented}
    if inspect.isclass(obj) and (hasattr(obj, "__dataclass_fields__") or hasattr(obj, "model_fields")):
        documented |= {entry for entry, _ in parsed.get("Attributes", [])}
    missing = [p for p in expected if p not in documented and p.lstrip("*") not in documented]
    if missing:
        found.append(f"{name}: parameters not documented: {', '.join(missing)}")
    plain = [p.lstrip("*") for p in expected]
    listed = [entry.lstrip("*") for entry, _ in parsed.get("Parameters", [])]
    unknown = [entry for entry in listed if entry not in plain]
    if unknown and not any(p.startswith("**") for p in expected):
        found.append(f"{name}: documented parameters not in the signature: {', '.join(unknown)}")
    known = [entry for entry in listed if entry in plain]
    if known != sorted(known, key=plain.index):
        found.append(f"{name}: parameters documented out of signature order: {', '.join(known)}")
    untyped = [entry for entry, kind in parsed.get("Parameters", [])
               if not kind and not entry.startswith("*")]
    if untyped:
        found.append(f"{name}: parameters without a type: {', '.join(untyped)}")
    if inspect.isfunction(obj) and id(obj) not in PROPERTIES and _returns_value(obj) and not (
            "Returns" in parsed or "Yields" in parsed):
        found.append(f"{name}: no Returns section")
    return found


CALLABLES = public_callables()


def test_public_api_is_found():
    # the walk reaches the readers, the analysis modules and the top-level names
    every = public_callables(everything=True)
    for name in ("sfone.read", "sfone.open_cohort", "sfone.io.calorimetry.tse.read_tse",
                 "sfone.stats.compare_proportions", "sfone.tracking.Tracks.write"):
        assert name in every, f"{name} missing from the public API walk"
    assert len(every) > 300
    assert "sfone.read" in CALLABLES and "sfone.validate" in CALLABLES


@pytest.mark.parametrize("name", list(CALLABLES))
def test_docstring_documents_signature(name):
    assert not problems(name, CALLABLES[name]), "\n".join(problems(name, CALLABLES[name]))


def test_parser_reads_numpydoc_sections():
    doc = """Summary.

    Parameters
    ----------
    x, y : float
        Coordinates in seconds.
    **kwargs
        Passed on.

    Returns
    -------
    xarray.Dataset
        The result.
    """
    parsed = sections(doc)
    assert parsed["Parameters"] == [("x", "float"), ("y", "float"), ("**kwargs", None)]
    assert parsed["Returns"] == [("xarray.Dataset", None)]

    def f(x, *, y=1):
        """Summary.

        Parameters
        ----------
        x : int
            A number.
        """
        return x + y

    assert problems("f", f) == ["f: parameters not documented: y", "f: no Returns section"]

    def g(a, b):
        """Summary.

        Parameters
        ----------
        b : int
            Second.
        a : int
            First.
        c : int
            Not a parameter.

        Returns
        -------
        int
        """
        return a + b

    assert problems("g", g) == ["g: documented parameters not in the signature: c",
                                "g: parameters documented out of signature order: b, a"]


def test_fill_doc_puts_shared_paragraphs_at_the_docstring_indentation():
    from sfone._docs import docdict, fill_doc

    @fill_doc
    def f(ax=None):
        """Summary.

        Parameters
        ----------
        %(ax)s
        """

    class C:
        @fill_doc
        def p_value(self, test):
            """Summary.

            Parameters
            ----------
            %(test_row)s

            Returns
            -------
            float
            """

    assert sections(f.__doc__)["Parameters"] == [("ax", "matplotlib.axes.Axes, optional")]
    assert inspect.getdoc(f).endswith(docdict["ax"])
    # a method's docstring is indented deeper: the paragraph follows it
    assert "Parameters\n----------\ntest : str\n    Row name of :attr:`tests`.\n\nReturns" in (
        inspect.cleandoc(C.p_value.__doc__))
    assert not problems("C.p_value", C.p_value)

    def g():
        """Summary.

        %(no_such_paragraph)s
        """

    with pytest.raises(KeyError, match="no_such_paragraph"):
        fill_doc(g)


def test_no_public_docstring_keeps_a_placeholder():
    left = [name for name, obj in public_callables(everything=True).items()
            if re.search(r"%\(\w+\)s", (obj.__doc__ or ""))]
    assert not left, f"{left}: decorate with sfone._docs.fill_doc"


if __name__ == "__main__":  # pragma: no cover - a report for people writing docstrings
    every = public_callables(everything="--all" in sys.argv)
    bad = {name: problems(name, obj) for name, obj in every.items() if problems(name, obj)}
    with_parameters = sum(1 for obj in every.values() if "Parameters" in sections(
        (obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)) or ""))
    print(f"{len(every) - len(bad)} of {len(every)} public callables complete; "
          f"{with_parameters} have a Parameters section")
    for items in bad.values():
        print("\n".join(items))
    owners = sorted({_owner_module(every[name]) for name in bad})
    print("modules with incomplete docstrings:", ", ".join(owners))
    sys.exit(0)
