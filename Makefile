# Every target installs what it needs first, so each works on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install system-deps run test lint fmt bench lock clean

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

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
