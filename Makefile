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

# No Mattermost server at hand: the test double with a demo team, and the bot against it, on free
# ports (8065 if free; DEMO_PORT=<port> insists on one). Prints the console command; Ctrl-C stops both.
demo: setup
	$(BIN)/python -m mmdouble.demo

# Unit, contract and end-to-end tests. On PostgreSQL with TEST_DATABASE_URL=postgresql://... (CI runs both).
test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

# Every benchmark, short by default; longer: make bench BENCH_ARGS="--rounds 5 --cpu-actions 3000 --seconds 10"
# (bench/incident_bench.py --help). BENCH_DATABASE_URL=postgresql://... runs them on PostgreSQL.
BENCH_ARGS ?=
bench: setup
	$(BIN)/python bench/incident_bench.py $(BENCH_ARGS)
	$(BIN)/python bench/replica_bench.py
	$(BIN)/python bench/memory_bench.py
	$(BIN)/python bench/idle.py --seconds 10
	$(BIN)/python bench/metrics_bench.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .demo.env .demo.pid
