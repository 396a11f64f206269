# Linli: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test lint typecheck pytest e2e bench migrate seed clean messages

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt ".[dev]"
	@rm -rf build *.egg-info
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: SQLite, demo data, the site on http://127.0.0.1:8000 with background tasks.
run: seed
	@echo "Linli: open http://127.0.0.1:8000/ and log in with a demo login above."
	$(PY) manage.py serve 127.0.0.1:8000

## make test: lint, type-check and the whole suite (SQLite unless DATABASE_URL is set).
test: lint typecheck pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy .

pytest: install
	$(VENV)/bin/pytest -m "not e2e" -n 2 --dist loadfile

## Browser journeys in Debian's Chromium (apt-get install chromium fonts-noto-cjk).
e2e: install
	$(VENV)/bin/pytest -m e2e -p no:xdist

## Benchmark on PostgreSQL (DATABASE_URL, default the local server); takes minutes.
bench: install
	$(PY) -m bench.run

## Regenerate and compile translations (needs GNU gettext).
messages: install
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=bench
	$(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3* .cache staticfiles test-artifacts
