# Territory Desktop: `make run` sets up and opens the app on the demo project; `make test` runs the suite.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := demo/demo.gpkg

.PHONY: run test setup system lint bench clean bundle icons

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

$(DEMO): $(STAMP) $(wildcard territory_desktop/services/demo*.py) territory_desktop/services/workload.py \
		territory_desktop/engine/routing/workload.py
	@mkdir -p demo
	$(BIN)/territory-desktop demo $(DEMO) --force

test: setup
	$(BIN)/ruff check territory_desktop tests benchmarks
	$(BIN)/python -m mypy
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile

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

# the one-folder bundle for this OS (dist/territory-desktop), then its smoke test in an empty environment
bundle: setup
	$(BIN)/python -m pip install -q -e ".[bundle]"
	nice -n 10 $(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build \
		installer/territory-desktop.spec
	@if [ "$$(uname)" = Linux ]; then $(BIN)/python installer/strip-bundle.py dist/territory-desktop; fi
	bash installer/smoke-test.sh dist/territory-desktop

# the application icon at every size (PNG, .ico, .icns) from resources/icons/territory-desktop.svg
icons: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python installer/make-icons.py

clean:
	rm -rf $(VENV) demo build dist *.egg-info
