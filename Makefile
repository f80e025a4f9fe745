# KernelScope: `make run` installs everything and starts the app; `make test` installs
# everything (Chromium and ChromeDriver from Debian when missing, as root) and runs every test.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: install run test browser-deps lint bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) run.py --host $(HOST) --port $(PORT)

browser-deps:
	@if command -v chromedriver >/dev/null 2>&1 && (command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1); then \
		echo "chromium and chromedriver found"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else \
		echo "error: the browser tests need chromium and chromedriver; as root run: apt-get install chromium chromium-driver" >&2; exit 1; \
	fi

lint: install
	$(VENV)/bin/ruff check .

test: install browser-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest --headless -p no:cacheprovider

bench: install
	$(PY) -m bench.latency

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
