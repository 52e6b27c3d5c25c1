# audioclf — the two commands users need: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
PY_DIRS := src tests $(wildcard benchmarks)
# The browser tests drive Debian's Chromium (Playwright's own browser download can't be used).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# onnxruntime-web for on-device inference in the browser app, vendored from npm at build
# time (web/package.json, web/vendor.mjs); VERSION is written last, so it is the stamp
VENDOR_DIR := src/audioclf/service/web/vendor
VENDOR := $(VENDOR_DIR)/VERSION

.PHONY: install demo test lint typecheck unit format clean postgres-server compose

install: $(STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver

# The registry tests also run on PostgreSQL: a throwaway cluster (tests/postgres_server.py)
# started with the server binaries, Debian's `postgresql` package when they are missing.
postgres-server:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; }

# tests/test_deploy.py validates docker-compose.yml with `docker compose config` (no engine
# needed), or Debian's docker-compose where Docker's compose plugin is missing.
compose:
	@docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || \
	  { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq docker-compose; }

# The browser app's runtime files from the pinned npm package (web/package-lock.json),
# with Debian's npm where none is installed. Order-only below: an editable install serves
# them from the source tree, so new vendor files need no reinstall.
$(VENDOR): web/package.json web/package-lock.json web/vendor.mjs web/LICENSE-onnxruntime-web.txt
	@command -v npm >/dev/null || \
	  { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm; }
	cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	node web/vendor.mjs $(VENDOR_DIR)

# (Re)install whenever the project's dependencies change. `make demo` needs only the
# package (RUN_STAMP); the test tools (dev extra) come on top for `make test`.
$(RUN_STAMP): pyproject.toml | $(VENDOR)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	RAY_USAGE_STATS_ENABLED=0 $(BIN)/python -m pip install --quiet -e ".[dev,smile,voice,ray,whisper]"
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)

typecheck: $(STAMP)
	$(BIN)/mypy $(PY_DIRS)

unit: $(STAMP) $(CHROMIUM) postgres-server compose
	# the Ray tests share one worker and its local Ray (xdist_group "ray")
	RAY_USAGE_STATS_ENABLED=0 $(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck unit

# Synthesise spoken digits, train the default model on them, serve it with the browser app.
# DEMO_ARGS passes options on, e.g. make demo DEMO_ARGS="--port 8080 --host 0.0.0.0".
DEMO_ARGS ?=
demo: $(RUN_STAMP)
	$(BIN)/audioclf quickstart $(DEMO_ARGS)

format: $(STAMP)
	$(BIN)/ruff check --fix $(PY_DIRS)
	$(BIN)/ruff format $(PY_DIRS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache web/node_modules $(VENDOR_DIR)
