# The one command surface: make run, make test, make lint, make bench*.
# Every target bootstraps what it needs from the repo's own lock files.
SHELL := /bin/bash
ADVISOR := .venv/bin/advisor
PY := .venv/bin/python

.PHONY: bootstrap run test test-scale lint bench bench-retrieval bench-voice bench-dialogue bench-campaign bench-guard bench-scale train lock-rasa clean

bootstrap:
	@bash bot/runtime/bootstrap.sh

run: bootstrap
	@$(ADVISOR) run

train: bootstrap
	@$(ADVISOR) train

test: bootstrap
	@bash bot/runtime/browser.sh
	@$(ADVISOR) train
	@$(PY) -m pytest -q -p no:cacheprovider

# The scale-out shape: the app database on a throwaway PostgreSQL (also part of `make test` when the
# binaries exist) and the multi-replica e2e tests (2 Rasa replicas on PostgreSQL + Redis, a Chroma server).
test-scale: bootstrap
	@bash bot/runtime/scale_servers.sh
	@$(ADVISOR) train
	@$(PY) -m pytest -q -p no:cacheprovider -m "pg or scale" tests/scale

lint: bootstrap
	@.venv/bin/ruff check bot telephony tests
	@.venv/bin/ruff format --check bot telephony tests
	@.venv/bin/mypy

bench: bootstrap
	@$(PY) tests/bench/bench_cli.py
	@$(ADVISOR) train
	@$(PY) tests/bench/bench_chat.py

bench-retrieval: bootstrap
	@$(PY) tests/bench/bench_retrieval.py

bench-campaign: bootstrap
	@$(PY) tests/bench/bench_campaign_plan.py

bench-guard: bootstrap
	@$(PY) tests/bench/bench_guard.py

# Throughput and p95 at 20 and 50 concurrent conversations with 1 and 2 Rasa replicas (PostgreSQL + Redis).
bench-scale: bootstrap
	@bash bot/runtime/scale_servers.sh
	@$(ADVISOR) train
	@$(PY) tests/bench/bench_scale.py

bench-voice: bootstrap
	@$(ADVISOR) train
	@$(PY) tests/bench/bench_voice.py

bench-dialogue: bootstrap
	@$(ADVISOR) train
	@$(PY) tests/bench/bench_dialogue.py

# Re-pin the Rasa runtime after editing bot/rasa_project/requirements.in.
lock-rasa: bootstrap
	@.venv/bin/uv pip compile --quiet --universal --python-version 3.10 \
		bot/rasa_project/requirements.in -o bot/rasa_project/requirements.lock 2>/dev/null || \
	 uv pip compile --quiet --universal --python-version 3.10 \
		bot/rasa_project/requirements.in -o bot/rasa_project/requirements.lock

clean:
	rm -rf var .venv .venv-rasa .tools
