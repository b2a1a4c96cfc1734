# Every target installs what it needs first, so each works on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install system-deps run serve test lint fmt bench lock clean tekton-lint bundle

# @ibm/tekton-lint, pinned, for the Tekton checks of `make test` (needs Node.js >= 18 and npm).
NPM_PREFIX          := .build/npm
TEKTON_LINT_VERSION := 1.1.0
TEKTON_LINT         := $(NPM_PREFIX)/node_modules/.bin/tekton-lint

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# Debian packages the tests talk to: a real registry, skopeo, PostgreSQL.
system-deps:
	bash scripts/install-system-deps.sh

run: install
	bash scripts/run.sh

# The status API and page (http://127.0.0.1:8080/) on make run's database, until Ctrl-C.
serve: install
	$(BIN)/iib-step demo serve --run-dir "$${RUN_DIR:-$${TMPDIR:-/tmp}/iib-tekton-demo}"

test: install system-deps $(TEKTON_LINT)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

tekton-lint: $(TEKTON_LINT)

$(TEKTON_LINT):
	bash scripts/install-system-deps.sh
	npm install --silent --no-audit --no-fund --prefix $(NPM_PREFIX) @ibm/tekton-lint@$(TEKTON_LINT_VERSION)

# Tekton bundles of every Task and Pipeline (scripts/bundle.sh): BUNDLE=quay.io/org/iib-tekton for a
# registry; by default OCI layouts under .build/bundles.
BUNDLE ?= oci:.build/bundles

bundle: install
	bash scripts/bundle.sh $(BUNDLE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install system-deps
	$(BIN)/python -m bench $(BENCH_ARGS)

# Re-pin every dependency, with hashes, after editing pyproject.toml.
lock:
	$(PYTHON) -m pip install -q uv
	$(PYTHON) -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -q -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
