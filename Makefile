# The two commands of the README: `make run` (set up, then start the bot) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run demo test test-sqlite lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# Start the bot with settings.toml (copy settings.example.toml) and/or environment variables.
run: setup
	$(BIN)/python bot.py

# No Mattermost server at hand: start the test double with a demo team, then the bot against it.
demo: setup
	$(BIN)/python -m mmdouble --demo --port 8065 --write-env .demo.env & echo $$! > .demo.pid; \
	trap 'kill $$(cat .demo.pid) 2>/dev/null; rm -f .demo.pid' EXIT INT TERM; \
	for i in $$(seq 50); do [ -s .demo.env ] && break; sleep 0.1; done; \
	set -a; . ./.demo.env; set +a; $(BIN)/python bot.py

# Unit, contract and end-to-end tests. Set TEST_DATABASE_URL=postgresql://... to add PostgreSQL.
test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/incident_bench.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .demo.env .demo.pid
