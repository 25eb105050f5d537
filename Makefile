# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing.

CARGO ?= cargo
DEMO_PASSWORD ?= techniville
# The demo staff's TOTP secret (base32), to add to any authenticator app; demo accounts only.
DEMO_TOTP_SECRET ?= JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
SIZE ?= default
# Only `make run` uses ./var; tests make their own folders.
RUN_DATA_DIR ?= $(CURDIR)/var
# `make run` pays through the PayFiP simulator on this address (never money).
PAYFIP_SIMULATOR ?= 127.0.0.1:8090
RUN_PAYFIP = CANTINE_PAYFIP__ENDPOINT='http://$(PAYFIP_SIMULATOR)/tpa/services/securite' \
	CANTINE_PAYFIP__PAYMENT_PAGE='http://$(PAYFIP_SIMULATOR)/tpa/paiementws.web' \
	CANTINE_PAYFIP__REGIES='[{ code = "CANT", numcli = "012345" }]'
# The checked queries build from their committed offline data (app/.sqlx), never from a
# DATABASE_URL that happens to be set: `make sqlx-prepare` is the one place that goes online.
export SQLX_OFFLINE = true

.PHONY: run test lint lint-rust lint-ops lint-monitoring unit sqlx-prepare deps-run deps-test deps-lint deps-bench build fuzz-api browser-test bench bench-backup image image-verify image-test clean

## Serve the Techniville demo on http://127.0.0.1:8080 (private PostgreSQL under ./var), with
## the PayFiP simulator on $(PAYFIP_SIMULATOR) for online payments.
run: deps-run
	$(CARGO) build --bin cantine
	CANTINE_DATA_DIR='$(RUN_DATA_DIR)' ./target/debug/cantine demo --password '$(DEMO_PASSWORD)' --totp-secret '$(DEMO_TOTP_SECRET)'
	./target/debug/cantine payfip-simulator --listen '$(PAYFIP_SIMULATOR)' & simulator=$$!; \
	trap 'kill $$simulator' EXIT INT TERM; \
	CANTINE_DATA_DIR='$(RUN_DATA_DIR)' $(RUN_PAYFIP) ./target/debug/cantine serve

## Every test: formatting, lints (Rust, shell, Python, the dependency rule, the queries' offline
## data), unit and integration tests against real PostgreSQL, the image scripts' Python tests
## (image/scripts/*_test.py), the API fuzzer (every schemathesis check) and the offline
## attendance test in a headless chromium.
test: deps-test lint unit fuzz-api browser-test

lint: lint-rust lint-ops lint-monitoring

## Formatting, clippy, the dependency rule (docs/architecture.md), and the queries' offline data.
lint-rust:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	scripts/check-layers
	scripts/sqlx-prepare --check

## Regenerates app/.sqlx after a query or a migration changed (a throwaway PostgreSQL).
sqlx-prepare:
	scripts/sqlx-prepare

## shellcheck on every shell script and ruff on every Python file (found by scripts/ops-files).
lint-ops: deps-lint
	scripts/lint-ops

## The monitoring folder: promtool check config / check rules / test rules, every alert's
## runbook and tests, every dashboard query and metric (scripts/check-monitoring).
lint-monitoring: deps-lint
	scripts/check-monitoring

unit:
	$(CARGO) test --workspace --locked
	python3 -m unittest discover -s image/scripts -p '*_test.py'

## Property-based fuzzing of the JSON API from its OpenAPI file (FUZZ_EXAMPLES per operation).
fuzz-api: deps-test
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-30} scripts/fuzz-api

## Offline attendance in a real browser: headless chromium driven by Playwright (scripts/browser-test).
browser-test: deps-test
	scripts/browser-test

## Backup and restore timings on a 10,000-child database (figures in docs/benchmarks.md).
bench-backup: deps-test
	scripts/bench-backup

deps-run:
	@scripts/install-deps run

deps-test:
	@scripts/install-deps test

deps-bench:
	@scripts/install-deps bench

deps-lint:
	@scripts/install-deps lint

build:
	$(CARGO) build --release --locked --bin cantine

## The appliance image (see image/README.md).
image image-verify image-test:
	$(MAKE) -C image $@

clean:
	$(CARGO) clean
	rm -rf var

## The booking rush against the machine's own limits (docs/benchmarks.md): SIZE=small for a
## quick run of the same harness. Writes target/bench/results.json.
bench: deps-bench
	SIZE=$(SIZE) scripts/bench
