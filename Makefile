# BorgHUI Conduit. `make run` starts the conduit; `make test` runs everything.
SHELL := /bin/bash
export GOTOOLCHAIN := local

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
BIN     := bin/borghui
ARGS    ?=
FUZZTIME ?= 60s

.PHONY: all build run test test-go test-ledger lint generate check-generate bench bench-tree bench-sim fuzz clean

all: build

build:
	go build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

# The conduit, with its data folder BorgData/ beside the binary (bin/BorgData).
run: build
	./$(BIN) $(ARGS)

# Everything: lint, unit tests, vectors, fuzz seed corpora, the race detector,
# the browser tests in headless Chromium (required here: a missing Chromium
# fails the run instead of skipping it) and the 10^4-node churn and partition
# simulations.
test: lint test-go test-ledger

test-go:
	# -p 1: one package at a time. Several packages start five in-process
	# nodes each (ledger, crono, mail, shard); under -race on two cores,
	# running them side by side starves the trees' timers into splits.
	BORGHUI_REQUIRE_BROWSER=1 BORGHUI_SIM_LARGE=1 go test -race -count=1 -p 1 -timeout 20m ./...

# The ledger's 1,000-transfer five-node test with its root killed, at full
# speed (it skips itself under -race, where the nodes cannot keep up).
test-ledger:
	go test -count=1 -run 'TestNetworkRandomTransfers' ./cells/ledger/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go tool staticcheck ./...

generate:
	go tool templ generate -path web

# CI: generated files are committed and must match what `make generate` makes.
check-generate: generate
	@if [ -n "$$(git status --porcelain)" ]; then git status --porcelain; git diff | head -40; \
	  echo "make generate changed files: run it and commit the result"; exit 1; fi

bench: build
	go test -run '^$$' -bench . -benchmem -count=1 ./signer/ ./wallet/... ./web/ .

# The issue-level figures: real node processes on loopback, and the simulator.
bench-tree: build
	./$(BIN) bench tree --nodes 32 --json

bench-sim: build
	./$(BIN) sim --nodes 1000000 --fanout 10 --storm --max-batch 65536 --json
	./$(BIN) sim --nodes 100000 --fanout 10 --storm --json

fuzz:
	@set -e; for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; go test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf bin artifacts
