# faultline: the usual targets. `make help` lists them.

GO      ?= go
BIN     ?= bin
PROFILE ?= default
REPS    ?= 3

.PHONY: help build test vet run run-fast clean

help:
	@echo "build     build every command into $(BIN)/"
	@echo "test      go vet and the race-enabled test suite (what CI runs)"
	@echo "run       run leader-isolation with PROFILE=$(PROFILE) and REPS=$(REPS)"
	@echo "run-fast  run leader-isolation with the fast profile"
	@echo "clean     remove $(BIN)/"

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ ./cmd/...

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race ./...

run:
	$(GO) run ./cmd/scenario run leader-isolation --profile $(PROFILE) --reps $(REPS)

run-fast:
	$(MAKE) run PROFILE=fast

clean:
	rm -rf $(BIN)

# Benchmarks: BENCHMARKS.md records their figures. BENCH_FLAGS passes flags
# to cmd/bench, for example BENCH_FLAGS="--only proxy --json bench.json".
BENCH_FLAGS ?=

.PHONY: bench bench-smoke

bench:
	$(GO) run ./cmd/bench $(BENCH_FLAGS)

bench-smoke:
	$(GO) run ./cmd/bench --smoke $(BENCH_FLAGS)
