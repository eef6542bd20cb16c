# Territory Desktop: `make run` sets up and opens the app on the demo project; `make test` runs the suite.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo/demo.gpkg

.PHONY: run test setup system lint bench clean

run: setup $(DEMO)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = "Darwin" ]; then \
		$(BIN)/territory-desktop gui $(DEMO); \
	else \
		echo "no display: running headless; writing demo outputs to demo/"; \
		$(BIN)/territory-desktop info $(DEMO) > demo/info.txt && \
		$(BIN)/territory-desktop info $(DEMO) --json > demo/info.json && \
		QT_QPA_PLATFORM=offscreen $(BIN)/territory-desktop screenshot $(DEMO) --out demo/screenshot.png && \
		cat demo/info.txt && echo "wrote demo/demo.gpkg, demo/info.txt, demo/info.json, demo/screenshot.png"; \
	fi

$(DEMO): $(STAMP) territory_desktop/services/demo.py
	@mkdir -p demo
	$(BIN)/territory-desktop demo $(DEMO) --force

test: setup
	$(BIN)/ruff check territory_desktop tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider

setup: system $(STAMP)

system:
	@bash installer/system-packages.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $$(bash installer/find-python.sh) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,bench]"
	@touch $(STAMP)

lint: setup
	$(BIN)/ruff check territory_desktop tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo build *.egg-info
