# Every target installs what it needs first, so each works on a fresh machine.
#
# Two environments from two hashed locks (`make lock` writes both):
#   runtime  requirements.lock      make run, make serve (and the step image, `make image`)
#   dev      requirements-dev.lock  make test, make lint, make fmt, make bench (the runtime pins + dev)
# Each has its own stamp; the dev lock is a superset, so installing it also satisfies runtime.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev

.PHONY: install runtime system-deps run serve image test lint fmt bench lock clean tekton-lint bundle

# @ibm/tekton-lint, pinned, for the Tekton checks of `make test` (needs Node.js >= 18 and npm).
NPM_PREFIX          := .build/npm
TEKTON_LINT_VERSION := 1.1.0
TEKTON_LINT         := $(NPM_PREFIX)/node_modules/.bin/tekton-lint

# The full development environment (what the tests need).
install: $(DEV_STAMP)

# Only the runtime: no compiler, no Kerberos headers, no test services.
runtime: $(RUNTIME_STAMP)

# Not quiet: pip prints a line per package, so a first `make run` shows progress while it installs.
$(RUNTIME_STAMP): requirements.lock pyproject.toml
	@echo "== installing the runtime (requirements.lock) into $(VENV)"
	bash scripts/install-system-deps.sh run
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar off --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@echo "== runtime installed"
	touch $@

$(DEV_STAMP): requirements-dev.lock requirements.lock pyproject.toml
	bash scripts/install-system-deps.sh test
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@ $(RUNTIME_STAMP)

# Debian packages the tests talk to: a real registry, skopeo, PostgreSQL, podman, the image tools.
system-deps:
	bash scripts/install-system-deps.sh test

run: runtime
	bash scripts/run.sh

# The status API and page (http://127.0.0.1:8080/) on make run's database, until Ctrl-C.
serve: runtime
	$(BIN)/iib-step demo serve --run-dir "$${RUN_DIR:-$${TMPDIR:-/tmp}/iib-tekton-demo}"

# The step image (Containerfile) as an OCI layout in .build/images/iib-step, without a daemon.
# Settings: IMAGE_OUT, BASE_IMAGE, IMAGE_FORCE=1 (see scripts/build-image.sh).
image:
	bash scripts/install-system-deps.sh image
	bash scripts/build-image.sh

test: install system-deps $(TEKTON_LINT)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

tekton-lint: $(TEKTON_LINT)

$(TEKTON_LINT):
	bash scripts/install-system-deps.sh test
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

# Re-pin every dependency, with hashes, after editing pyproject.toml (both locks; scripts/lock.sh).
lock:
	PYTHON=$(PYTHON) bash scripts/lock.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
