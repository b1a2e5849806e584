# Two commands for a fresh machine: `make run` and `make test`. Each sets up what it needs,
# idempotently: Debian packages, the virtualenv with pinned packages, the Kafka jars, the
# tracking script's npm packages and its build.

VENV := .venv
PY := $(VENV)/bin/python
KAFKA_LIBS := .cache/kafka/libs
TRACKER := collector/tracker
TRACKER_BUILT := $(TRACKER)/dist/footfall.js
DEBIAN_PACKAGES := openjdk-17-jre-headless maven hey clickhouse-server chromium prometheus iproute2

# Defined before the rules that name them: make expands a rule's prerequisites as it reads it.
# The CDNOW sample of Fader, Hardie & Lee's BG/NBD paper (2,357 customers), which the
# lifetimes wheel ships: the lifetime value models are checked against the paper on it.
CDNOW := .cache/cdnow/CDNOW_sample.txt
LIFETIMES_VERSION := 0.11.3

.PHONY: setup system-packages helm run test test-unit check bench lock

setup: system-packages $(VENV)/.installed $(KAFKA_LIBS)/.complete $(TRACKER_BUILT) helm $(CDNOW)

system-packages:
	@missing=""; for pkg in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q "ok installed" || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	touch $@

$(KAFKA_LIBS)/.complete: deploy/kafka/pom.xml
	mvn -q -B -f deploy/kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/$(KAFKA_LIBS)
	touch $@

# The tracking script: exact npm versions from package-lock.json, then the minified build,
# which prints its gzipped size and fails above 3 KB.
$(TRACKER)/node_modules/.installed: $(TRACKER)/package.json $(TRACKER)/package-lock.json
	cd $(TRACKER) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(TRACKER_BUILT): $(TRACKER)/node_modules/.installed $(TRACKER)/build.mjs $(wildcard $(TRACKER)/src/*.js)
	cd $(TRACKER) && node build.mjs

# Helm, for the chart checks in `make test`: built from its Go module into the cache (a few
# minutes, once); skipped when the binary there was built from this version.
GO := $(or $(shell command -v go),/usr/local/go/bin/go)
GO_CACHE := $(CURDIR)/.cache/go
HELM := $(GO_CACHE)/bin/helm
HELM_VERSION := v3.22.0

helm:
	@if [ -x $(HELM) ] && $(GO) version -m $(HELM) | grep -q "mod[[:space:]]*helm.sh/helm/v3[[:space:]]*$(HELM_VERSION)[[:space:]]"; then :; else \
	  echo "building helm $(HELM_VERSION)"; \
	  GOBIN=$(GO_CACHE)/bin GOPATH=$(GO_CACHE)/path GOMODCACHE=$(GO_CACHE)/mod GOCACHE=$(GO_CACHE)/build \
	    $(GO) install -modcacherw helm.sh/helm/v3/cmd/helm@$(HELM_VERSION); \
	fi

$(CDNOW): | $(VENV)/.installed
	mkdir -p .cache/cdnow
	$(PY) -m pip download -q --no-deps lifetimes==$(LIFETIMES_VERSION) -d .cache/cdnow
	$(PY) -c "import sys, zipfile; open(sys.argv[2], 'wb').write(zipfile.ZipFile(sys.argv[1]).read('lifetimes/datasets/CDNOW_sample.txt'))" \
	  .cache/cdnow/Lifetimes-$(LIFETIMES_VERSION)-py3-none-any.whl $@

run: setup
	$(VENV)/bin/footfall up --demo

# The product's own packages, in layer order (docs/architecture.md).
PACKAGES := schemas infra collector processors sinks webhooks footfall

test: setup check
	$(PY) -m pytest

# Architecture and repetition: the import contracts in pyproject.toml, and no six lines
# of product code repeated.
check: setup
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 --score=n $(PACKAGES)

test-unit: setup
	$(PY) -m pytest tests/unit

bench: setup  ## figures for the README (takes about 50 minutes)
	$(PY) -m bench.collector_throughput
	$(PY) -m bench.producer_clients
	$(PY) -m bench.sessioniser_throughput
	$(PY) -m bench.freshness
	$(PY) -m bench.sink_throughput
	$(PY) -m bench.funnel_reads
	$(PY) -m bench.analytics_throughput
	$(PY) -m bench.flood

# Regenerate the full pin list after changing pyproject.toml.
lock:
	$(PY) -m pip freeze --exclude-editable > requirements.lock
