"""The API reference pages and method tables, generated from what ``torchprob`` exports.

Nothing here lists a family by name: the pages come from ``torchprob.__all__`` (distribution
classes grouped by the subpackage that defines them, modules such as ``transforms`` with their own
``__all__``), so a family that the package exports later gets its page entry, its method table
and its place in the overview matrix at the next build.

``pages()`` returns ``{path: markdown}`` for the MkDocs hook (``docs/hooks.py``), and
``documented()`` the objects those pages render (checked by ``tests/test_docs_examples.py``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import types
import warnings
from typing import Any

import torch

import torchprob as tp

try:
    from . import instances as inst
    from .griffe_rst import rst_to_markdown
except ImportError:  # loaded as a top-level module (docs/ on sys.path)
    import instances as inst  # type: ignore[no-redef]
    from griffe_rst import rst_to_markdown  # type: ignore[no-redef]

# Distribution classes are grouped by the subpackage that defines them.
GROUPS = {
    "continuous": ("Continuous distributions", "api/continuous.md"),
    "discrete": ("Discrete distributions", "api/discrete.md"),
    "multivariate": ("Multivariate distributions", "api/multivariate.md"),
    "composite": ("Composite distributions", "api/composite.md"),
    "base": ("Base classes", "api/base.md"),
}
# Exported modules, each a page of its own, in this order (others are appended).
MODULES = {
    "transforms": "Transforms",
    "constraints": "Constraints",
    "constraint_registry": "Constraint registry",
    "kl": "KL divergence",
    "special": "Special functions",
    "utils": "Utilities",
}
# The methods a distribution may or may not implement, as the tables show them.
METHODS = [
    "rsample",
    "log_prob",
    "cdf",
    "icdf",
    "entropy",
    "mean",
    "variance",
    "mode",
    "enumerate_support",
    "log_cdf",
    "survival_function",
    "log_survival_function",
]
# Short column titles for the overview matrix (its key is printed under it).
SHORT = {
    "enumerate_support": "enum",
    "variance": "var",
    "survival_function": "sf",
    "log_survival_function": "log_sf",
}
YES, NO, ERR = "✓", "—", "?"

CLASS_OPTIONS = """    options:
      heading_level: 2
      show_root_heading: true
      show_root_full_path: false
"""
MEMBER_OPTIONS = """    options:
      heading_level: 2
      show_root_heading: true
      show_root_full_path: false
"""
MODULE_OPTIONS = """    options:
      show_root_heading: false
      show_root_toc_entry: false
      members: false
"""


def _group(cls: type) -> str:
    parts = cls.__module__.split(".")
    if len(parts) > 2 and parts[0] == "torchprob" and parts[1] in GROUPS:
        return parts[1]
    if len(parts) > 2 and parts[0] == "torchprob":
        return parts[1]
    return "base"


def _distribution_classes() -> dict[str, type]:
    """Every distribution class in ``torchprob.__all__``, the abstract bases included."""
    return {
        name: obj
        for name in tp.__all__
        if isinstance(obj := getattr(tp, name, None), type) and issubclass(obj, tp.Distribution)
    }


def _probe(d: Any, method: str) -> str:
    """``YES`` when ``method`` runs on ``d``, ``NO`` when it raises ``NotImplementedError``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x = d.sample()
            if method in ("mean", "variance", "mode"):
                getattr(d, method)
            elif method in ("rsample", "entropy", "enumerate_support"):
                getattr(d, method)()
            elif method == "icdf":
                d.icdf(
                    torch.full(d.batch_shape, 0.5, dtype=x.dtype if x.is_floating_point() else None)
                )
            else:
                getattr(d, method)(x)
    except NotImplementedError:
        return NO
    except Exception:
        return ERR
    return YES


@functools.cache
def capabilities() -> dict[str, dict[str, str]]:
    """``{class name: {method: YES/NO/ERR}}`` for every concrete exported distribution."""
    table = {}
    for name, cls in inst.exported_distributions().items():
        made = inst.instances(name, cls, count=1)
        if made:
            table[name] = {m: _probe(made[0], m) for m in METHODS}
        else:
            table[name] = dict.fromkeys(METHODS, ERR)
    return table


def method_table(cls: type) -> str:
    """Markdown saying which of ``METHODS`` ``cls`` implements (empty unless an exported family).

    Two lines (implemented / raises ``NotImplementedError``) rather than a twelve-column table,
    so that it reads on a narrow page; the overview page has the full matrix.
    """
    exported = inst.exported_distributions()
    row = capabilities().get(cls.__name__)
    if row is None or exported.get(cls.__name__) is not cls:
        return ""

    def names(mark: str) -> str:
        return ", ".join(f"`{m}`" for m in METHODS if row[m] == mark) or "none"

    lines = [
        "**Methods**",
        "",
        f"* implemented: {names(YES)}",
        f"* raise `NotImplementedError`: {names(NO)}",
    ]
    if ERR in row.values():
        lines.append(f"* failed on the example instance: {names(ERR)}")
    return "\n".join(lines)


def class_for_path(path: str) -> type | None:
    """The class at a dotted path such as ``torchprob.continuous.normal.Normal``, if any."""
    module, _, name = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module), name, None)
    except Exception:
        return None
    return obj if isinstance(obj, type) else None


def _overview() -> str:
    classes = _distribution_classes()
    caps = capabilities()
    lines = [
        "---",
        "hide: [toc]",
        "---",
        "",
        "# API reference",
        "",
        "Every name below is importable from the top level (`import torchprob as td; td.Normal`),",
        "and the modules keep `torch.distributions`' paths (`torchprob.constraints`,",
        "`torchprob.transforms`, `torchprob.kl`, ...). The pages are rendered from the docstrings.",
        "",
        "## Which methods each distribution has",
        "",
        f"{YES}: implemented; {NO}: raises `NotImplementedError` (as in `torch.distributions`).",
        "The table is computed when the site is built, by calling each method on an example",
        "instance. The tail functions (`log_cdf`, `survival_function`, `log_survival_function`)",
        "are torchprob additions; where a family has no closed form of its own they are derived",
        "from `cdf` without cancellation.",
        "",
    ]
    head = "| distribution | " + " | ".join(SHORT.get(m, m) for m in METHODS) + " |"
    lines += [head, "|---|" + "|".join(":-:" for _ in METHODS) + "|"]
    for name in sorted(caps):
        page = GROUPS.get(_group(classes[name]), GROUPS["base"])[1].removeprefix("api/")
        row = caps[name]
        link = f"[{name}]({page}#torchprob.{name})"
        lines.append(f"| {link} | " + " | ".join(row[m] for m in METHODS) + " |")
    key = ", ".join(f"{short} = `{m}`" for m, short in SHORT.items())
    lines += ["", f"Columns: {key}."]
    if any(ERR in row.values() for row in caps.values()):
        lines += ["", f"{ERR}: the example instance raised another error for this method."]
    lines += ["", "## Pages", ""]
    for title, path in _group_pages():
        lines.append(f"* [{title}]({path.removeprefix('api/')})")
    for mod, title in _module_pages():
        lines.append(f"* [{title}]({mod}.md): `torchprob.{mod}`")
    return "\n".join(lines) + "\n"


def _group_pages() -> list[tuple[str, str]]:
    used = {_group(c) for c in _distribution_classes().values()}
    pages = [GROUPS[g] for g in GROUPS if g in used]
    pages += [
        (f"{g.capitalize()} distributions", f"api/{g}.md") for g in sorted(used - set(GROUPS))
    ]
    return pages


def _module_pages() -> list[tuple[str, str]]:
    mods = [n for n in tp.__all__ if isinstance(getattr(tp, n, None), types.ModuleType)]
    ordered = [m for m in MODULES if m in mods] + sorted(m for m in mods if m not in MODULES)
    return [(m, MODULES.get(m, m.replace("_", " ").capitalize())) for m in ordered]


def _module_members(mod: types.ModuleType) -> list[str]:
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(mod).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == mod.__name__
        ]
    return [n for n in names if hasattr(mod, n)]  # an __all__ entry may be ahead of its code


def _is_definition(obj: Any, name: str) -> bool:
    """Whether ``name`` is where ``obj`` (a class or function) is defined under that name.

    Those get a section of their own; instances (``constraints.positive``) and aliases of private
    classes (``constraints.greater_than``) are listed in a table instead, since their own
    section would show only an assignment.
    """
    return (inspect.isclass(obj) or inspect.isroutine(obj)) and getattr(obj, "__name__", "") == name


def _summary(obj: Any) -> str:
    """The first paragraph of the docstring of ``obj`` (of its class, for an instance)."""
    doc = inspect.getdoc(obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj))
    first = (doc or "").strip().split("\n\n")[0]
    return rst_to_markdown(" ".join(first.split())).replace("|", "\\|")


def _values_table(mod: types.ModuleType, names: list[str]) -> list[str]:
    rows = ["## Objects", "", "| name | value | description |", "|---|---|---|"]
    for name in names:
        obj = getattr(mod, name)
        if inspect.isclass(obj):
            try:
                params = inspect.signature(obj).parameters.values()
                args = ", ".join(
                    p.name if p.default is p.empty else f"{p.name}=..." for p in params
                )
                value = f"class `{name}({args})`"
            except (TypeError, ValueError):
                value = "class"
        else:
            text = repr(obj)
            value = f"`{text if len(text) <= 60 else text[:57] + '...'}`"
        rows.append(f"| `{name}` | {value} | {_summary(obj)} |")
    return [*rows, ""]


def _directive(path: str, options: str) -> str:
    return f"::: {path}\n{options}"


def _other_names() -> list[str]:
    """Exported names that neither a distribution page nor a module page covers."""
    covered = set(_distribution_classes())
    module_objects = set()
    for mod_name, _ in _module_pages():
        mod = getattr(tp, mod_name)
        covered.add(mod_name)
        module_objects |= {id(getattr(mod, n, None)) for n in _module_members(mod)}
    return [
        n for n in tp.__all__ if n not in covered and id(getattr(tp, n, None)) not in module_objects
    ]


def pages() -> dict[str, str]:
    """``{docs-relative path: markdown}`` of every API page."""
    out = {"api/index.md": _overview()}
    classes = _distribution_classes()
    for title, path in _group_pages():
        group = next((g for g, (_, p) in GROUPS.items() if p == path), path[4:-3])
        names = sorted(n for n, c in classes.items() if _group(c) == group)
        if group == "base":
            names.sort(key=lambda n: (n != "Distribution", n))
        body = [f"# {title}", ""]
        for name in names:
            body += [_directive(f"torchprob.{name}", CLASS_OPTIONS), ""]
        out[path] = "\n".join(body)
    for mod_name, title in _module_pages():
        mod = getattr(tp, mod_name)
        body = [f"# {title}", "", _directive(f"torchprob.{mod_name}", MODULE_OPTIONS), ""]
        members = _module_members(mod)
        values = [m for m in members if not _is_definition(getattr(mod, m), m)]
        if values:
            body += _values_table(mod, values)
        for member in members:
            if member not in values:
                body += [_directive(f"torchprob.{mod_name}.{member}", MEMBER_OPTIONS), ""]
        out[f"api/{mod_name}.md"] = "\n".join(body)
    others = _other_names()
    if others:
        body = ["# Other names", ""]
        for name in others:
            body += [_directive(f"torchprob.{name}", MEMBER_OPTIONS), ""]
        out["api/other.md"] = "\n".join(body)
    return out


def nav() -> list[Any]:
    """The MkDocs ``nav`` entries of the API section, in page order."""
    entries: list[Any] = [{"Overview": "api/index.md"}]
    entries += [{title: path} for title, path in _group_pages()]
    entries += [{title: f"api/{mod}.md"} for mod, title in _module_pages()]
    if _other_names():
        entries.append({"Other names": "api/other.md"})
    return entries


def documented() -> list[Any]:
    """The objects that the generated pages render, resolved from their ``:::`` paths."""
    objects = []
    for text in pages().values():
        for line in text.splitlines():
            if line.startswith("::: "):
                module, _, name = line[4:].strip().rpartition(".")
                objects.append(getattr(importlib.import_module(module), name))
    return objects
