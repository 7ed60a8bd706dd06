# Every target creates .venv on first use: torch==2.13.0 first (the CPU wheel on disk),
# then torchprob in editable mode with its test and demo extras.
PY := .venv/bin/python
VENV_STAMP := .venv/.installed

.PHONY: demo test test-fast bench lint clean

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,demo]'
	touch $(VENV_STAMP)

demo: $(VENV_STAMP)
	$(PY) examples/demo.py

# One torch thread per test worker: two workers on two cores, no oversubscription.
test: $(VENV_STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 tests

test-fast: $(VENV_STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 -m "not slow" tests

bench: $(VENV_STAMP)
	$(PY) benchmarks/compare.py
	$(PY) benchmarks/compare.py --section transforms
	$(PY) benchmarks/compare.py --section special
	$(PY) benchmarks/compare.py --section calls
	$(PY) benchmarks/compile_check.py

lint: $(VENV_STAMP)
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples
	$(PY) -m mypy src/torchprob

clean:
	rm -rf .venv build *.egg-info src/*.egg-info .pytest_cache

# Documentation: the docs extra on top of the usual venv, the gallery figures, then the site.
.PHONY: docs gallery
DOCS_STAMP := .venv/.docs-installed

$(DOCS_STAMP): $(VENV_STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[test,demo,docs]'
	touch $(DOCS_STAMP)

gallery: $(DOCS_STAMP)
	$(PY) docs/gallery.py

docs: gallery
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict
