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

.PHONY: all build run test test-go test-ledger lint generate check-generate bench bench-tree bench-sim fuzz clean dist dist-check

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
	BORGHUI_REQUIRE_BROWSER=1 BORGHUI_REQUIRE_FAT=1 BORGHUI_SIM_LARGE=1 go test -race -count=1 -p 1 -timeout 20m ./...

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
	./$(BIN) bench start --runs 10 --real-kdf

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

# The stick: every target's binary (static, -trimpath, stripped, no build
# ID: two builds of one commit are byte-identical), the READ-ME-FIRST and
# the macOS launcher, in dist/stick/.
DIST_TARGETS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
DIST ?= dist
DIST_LDFLAGS := $(LDFLAGS) -buildid=
dist:
	@rm -rf $(DIST)/stick && mkdir -p $(DIST)/stick
	@set -e; for t in $(DIST_TARGETS); do \
	  os=$${t%/*}; arch=$${t#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  out=$(DIST)/stick/borghui-$$os-$$arch$$ext; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -buildvcs=false -ldflags '$(DIST_LDFLAGS)' -o $$out . ; \
	  size=$$(stat -c %s $$out); echo "$$out $$size bytes"; \
	  if [ $$size -gt 31457280 ]; then echo "$$out is over 30 MB"; exit 1; fi; \
	done
	cp dist-files/READ-ME-FIRST.txt dist-files/BorgHUI.command $(DIST)/stick/
	cd $(DIST)/stick && sha256sum borghui-* > SHA256SUMS

# Reproducibility: build the stick twice in separate folders and compare,
# the second time with an empty build cache (else the linker's cached
# output would be compared with itself).
dist-check:
	$(MAKE) --no-print-directory dist DIST=$(DIST)/a >/dev/null
	rm -rf $(DIST)/b-cache
	GOCACHE=$(abspath $(DIST))/b-cache $(MAKE) --no-print-directory dist DIST=$(DIST)/b >/dev/null
	rm -rf $(DIST)/b-cache
	diff $(DIST)/a/stick/SHA256SUMS $(DIST)/b/stick/SHA256SUMS
	@echo "reproducible: two builds are byte-identical"; cat $(DIST)/a/stick/SHA256SUMS

clean:
	rm -rf bin artifacts dist
