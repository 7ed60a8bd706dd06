"""The documentation's examples and API pages: smoke runs of the example scripts (a few
iterations each), and coverage of the generated API reference over ``torchprob.__all__``."""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from pathlib import Path

import pytest
import torch

import torchprob as tp

ROOT = Path(__file__).resolve().parent.parent
pytest.importorskip("matplotlib")


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docs_modules():
    """``docs/`` holds the page generator; it imports its siblings by their bare names."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import api_pages
        import griffe_rst

        yield api_pages, griffe_rst
    finally:
        sys.path.remove(str(ROOT / "docs"))


# ---- examples ----------------------------------------------------------------------------


def test_mixture_fit(tmp_path):
    out = _load(ROOT / "examples" / "mixture_fit.py", "mixture_fit").main(
        iterations=60, out_dir=str(tmp_path)
    )
    assert out["after"] < out["before"]
    assert Path(out["png"]).stat().st_size > 0


def test_normalizing_flow(tmp_path):
    out = _load(ROOT / "examples" / "normalizing_flow.py", "normalizing_flow").main(
        iterations=40, out_dir=str(tmp_path)
    )
    assert out["after"] < out["before"]
    assert Path(out["png"]).stat().st_size > 0


def test_coupling_layer_is_a_bijection():
    flow_mod = _load(ROOT / "examples" / "normalizing_flow.py", "normalizing_flow")
    layer = flow_mod.AffineCoupling(keep=1)
    x = torch.randn(5, 2)
    y = layer(x)
    torch.testing.assert_close(layer.inv(y), x)
    jac = torch.func.vmap(torch.func.jacrev(layer))(x)
    torch.testing.assert_close(layer.log_abs_det_jacobian(x, y), jac.det().abs().log())


def test_vae_digits(tmp_path):
    pytest.importorskip("sklearn")
    out = _load(ROOT / "examples" / "vae_digits.py", "vae_digits").main(
        iterations=60, out_dir=str(tmp_path)
    )
    assert out["after"] > out["before"]
    assert Path(out["png"]).stat().st_size > 0


# ---- API pages ---------------------------------------------------------------------------


def test_every_public_class_and_function_has_a_section(docs_modules):
    api_pages, _ = docs_modules
    documented = {id(obj) for obj in api_pages.documented()}
    missing = [
        name
        for name in tp.__all__
        if (inspect.isclass(obj := getattr(tp, name)) or inspect.isroutine(obj))
        and id(obj) not in documented
    ]
    assert not missing, f"not in the API pages: {missing}"


def test_every_exported_module_has_a_page(docs_modules):
    api_pages, _ = docs_modules
    pages = api_pages.pages()
    modules = [n for n in tp.__all__ if inspect.ismodule(getattr(tp, n))]
    assert modules
    for name in modules:
        page = pages[f"api/{name}.md"]
        assert f"::: torchprob.{name}\n" in page
        for member in api_pages._module_members(getattr(tp, name)):
            assert f"torchprob.{name}.{member}" in page or f"`{member}`" in page, member


def test_method_matrix_lists_every_distribution(docs_modules):
    api_pages, _ = docs_modules
    overview = api_pages.pages()["api/index.md"]
    names = [
        n
        for n in tp.__all__
        if inspect.isclass(c := getattr(tp, n))
        and issubclass(c, tp.Distribution)
        and c not in (tp.Distribution, tp.ExponentialFamily)
    ]
    for name in names:
        assert f"[{name}](" in overview, name
    row = api_pages.capabilities()["Normal"]
    assert row["rsample"] == row["cdf"] == api_pages.YES
    assert row["enumerate_support"] == api_pages.NO


def test_nav_matches_pages(docs_modules):
    api_pages, _ = docs_modules
    paths = {path for entry in api_pages.nav() for path in entry.values()}
    assert paths == set(api_pages.pages())


def test_rst_to_markdown(docs_modules):
    _, griffe_rst = docs_modules
    doc = (
        "Density :math:`p(x)` of :class:`~torchprob.Normal` and :func:`kl_divergence`:\n"
        "\n"
        ".. math:: p(x) = \\frac{1}{\\sigma}\n"
        "    \\exp(-x)\n"
        "\n"
        "Args:\n"
        "    loc: mean :math:`\\mu\n"
        "        + 1`.\n"
        "\n"
        "Example::\n"
        "\n"
        "    >>> Normal(0.0, 1.0)\n"
    )
    md = griffe_rst.rst_to_markdown(doc)
    assert "Density $p(x)$ of `Normal` and `kl_divergence`:" in md
    assert "$$\np(x) = \\frac{1}{\\sigma}\n\\exp(-x)\n$$" in md
    assert "loc: mean $\\mu + 1$." in md
    assert "**Example**\n\n```python\n>>> Normal(0.0, 1.0)\n```" in md
    assert not re.search(r":(math|class|func):`", md)


# ---- the code on the hand-written pages runs ----------------------------------------------


@pytest.mark.parametrize("page", ["index.md", "migration.md"])
def test_page_code_runs(page):
    text = (ROOT / "docs" / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    namespace = {"torch": torch, "td": tp, "D": tp}
    for block in blocks:
        exec(compile(block, f"docs/{page}", "exec"), namespace)
