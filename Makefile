# memory-worker: common tasks. `make help` lists them.
#
# Needs GNU make and bash. On Debian/Ubuntu `make setup` installs the system packages
# (libpq-dev, libyaml-dev, postgresql, pkg-config, openssl, shellcheck, the Python modules the tests check the
# report and the metrics file with, bsdutils for `script`, their pseudo-terminal, and pgbouncer for the fleet tests); Swift itself must already be
# installed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Use the Swift toolchain in /opt/swift when `swift` is not on PATH.
ifeq ($(shell command -v swift 2>/dev/null),)
ifneq ($(wildcard /opt/swift/usr/bin/swift),)
export PATH := /opt/swift/usr/bin:$(PATH)
endif
endif

APT_PACKAGES := libpq-dev libyaml-dev postgresql pkg-config openssl shellcheck python3-jsonschema python3-prometheus-client bsdutils pgbouncer
SWIFT_FORMAT_PATHS := Sources Tests Plugins Package.swift
# Every shell script in scripts/ and .ci/, found by its `#!` line so a new one is linted too.
SHELL_SCRIPTS := $(shell grep -lE '^\#!.*[/ ](ba)?sh$$' scripts/* .ci/*)
# Job files for `make run`; override with `make run JOBS="jobs/a.yaml jobs/b.yaml"`.
JOBS ?= $(wildcard jobs/*.yaml)
# `make install`: under PREFIX, staged under DESTDIR for a package (the files still expect PREFIX). CONFIGURATION is
# the build installed; the install test (scripts/test-install) uses the debug build `make test` already made.
PREFIX ?= /usr/local
DESTDIR ?=
CONFIGURATION ?= release
# Where argument-parser's generate-manual plugin writes the manual of the `worker` target.
MANUAL := .build/plugins/GenerateManual/outputs/Worker/worker.1

.PHONY: help setup build run install test lint format pg-start pg-stop clean

help:
	@echo 'make setup     install missing system packages (apt: $(APT_PACKAGES)); check for swift'
	@echo 'make build     swift build'
	@echo 'make run       swift run worker jobs/*.yaml (starts the private PostgreSQL if no database is configured)'
	@echo 'make install   release build; worker, its man page and bash/zsh/fish completions under PREFIX (/usr/local), DESTDIR'
	@echo 'make test      swift test + Concurrency tests under TSan, against the private PostgreSQL (scripts/test)'
	@echo 'make lint      swift format lint --strict; shellcheck over scripts/ and .ci/'
	@echo 'make format    swift format --in-place'
	@echo 'make pg-start  start the private PostgreSQL (scripts/pg-local start; prints its URL)'
	@echo 'make pg-stop   stop it (make run leaves it running)'
	@echo 'make bench     release build; speed and memory next to pgbench and psql (scripts/bench), a report'
	@echo 'make clean     swift package clean; remove .build-tsan'

setup:
	@if command -v dpkg >/dev/null 2>&1; then \
	    missing=""; \
	    for p in $(APT_PACKAGES); do \
	        dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$p"; \
	    done; \
	    if [ -n "$$missing" ]; then \
	        sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	        echo "setup: installing$$missing" >&2; \
	        $$sudo apt-get update -qq && \
	        $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	    fi; \
	fi
	@command -v swift >/dev/null 2>&1 || { echo 'setup: swift not found on PATH (install Swift 6, e.g. to /opt/swift)' >&2; exit 1; }

build: setup
	swift build

# The worker decides from its own settings (environment and config.yaml) whether a database is configured:
# `worker config --database-configured` exits 0 if so, 1 if not, 2 if the settings are invalid.
run: setup
	@if [ -z "$(strip $(JOBS))" ]; then \
	    echo 'run: no job files: jobs/*.yaml matched nothing; name them with make run JOBS="a.yaml b.yaml"' >&2; \
	    exit 2; \
	fi
	@swift build --product worker
	@worker="$$(swift build --show-bin-path)/worker"; rc=0; \
	"$$worker" config --database-configured || rc=$$?; \
	if [ $$rc -eq 1 ]; then \
	    DATABASE_URL=$$(scripts/pg-local start) || exit 1; \
	    export DATABASE_URL; \
	    echo "run: using the private PostgreSQL: $$DATABASE_URL" >&2; \
	elif [ $$rc -ne 0 ]; then \
	    exit $$rc; \
	fi; \
	echo 'worker $(JOBS)' >&2; \
	"$$worker" $(JOBS)

# The man page comes from argument-parser's generate-manual plugin, which builds the package in CONFIGURATION first
# (that is the build installed); the completions from the worker itself.
install: setup
	swift package generate-manual --configuration $(CONFIGURATION)
	@set -e; \
	bin="$$(swift build --configuration $(CONFIGURATION) --show-bin-path)"; \
	root='$(DESTDIR)$(PREFIX)'; \
	install -d "$$root/bin" "$$root/share/man/man1" "$$root/share/bash-completion/completions" \
	    "$$root/share/zsh/site-functions" "$$root/share/fish/vendor_completions.d"; \
	install -m 755 "$$bin/worker" "$$root/bin/worker"; \
	install -m 644 $(MANUAL) "$$root/share/man/man1/worker.1"; \
	"$$bin/worker" --generate-completion-script bash >"$$root/share/bash-completion/completions/worker"; \
	"$$bin/worker" --generate-completion-script zsh >"$$root/share/zsh/site-functions/_worker"; \
	"$$bin/worker" --generate-completion-script fish >"$$root/share/fish/vendor_completions.d/worker.fish"; \
	echo "install: $$root/bin/worker, its man page and completions ($$("$$root/bin/worker" --version))" >&2

test: setup
	scripts/test

lint: setup
	swift format lint --strict --recursive --parallel $(SWIFT_FORMAT_PATHS)
	shellcheck $(SHELL_SCRIPTS)

format:
	swift format format --in-place --recursive --parallel $(SWIFT_FORMAT_PATHS)

pg-start:
	@scripts/pg-local start

pg-stop:
	@scripts/pg-local stop

clean:
	swift package clean
	rm -rf .build-tsan

# Speed and memory next to pgbench and psql on the private PostgreSQL (scripts/bench): a report, never a test.
.PHONY: bench
bench: setup
	scripts/bench
