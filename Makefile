# camplan: two commands for a new user — `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.camplan-installed

.PHONY: demo test bench clean qgis-plugin

# (Re)install only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/camplan demo --out out/demo --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run_all.py

# The QGIS Processing plugin, to install with Plugins > Manage and Install > Install from ZIP.
qgis-plugin:
	$(PYTHON) qgis/build.py build/camplan_qgis.zip

clean:
	rm -rf $(VENV) out build *.egg-info
