# faultline: the usual targets. `make help` lists them.

GO      ?= go
BIN     ?= bin
PROFILE ?= default
REPS    ?= 3

.PHONY: help build test vet run run-fast clean

help:
	@echo "nightly   the nightly catalog run with reports under reports/ (nightly-smoke: short)"
	@echo "build     build every command into $(BIN)/"
	@echo "test      go vet and the race-enabled test suite (what CI runs)"
	@echo "run       run leader-isolation with PROFILE=$(PROFILE) and REPS=$(REPS)"
	@echo "run-fast  run leader-isolation with the fast profile"
	@echo "clean     remove $(BIN)/"
	@echo "node, partition, image, up, down, scenarios-compose: the node binary, the CLI and the compose cluster"
	@echo "bench, bench-smoke: the benchmark driver (BENCHMARKS.md records its figures)"

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

# Containers. `make up` builds the node image and starts three nodes with
# docker compose (COMPOSE_PROFILES=five adds node-4 and node-5). The nodes'
# admin APIs need the token in FAULTLINE_ADMIN_TOKEN.
IMAGE      ?= faultline-node:latest
# COMPOSE is the Docker CLI's compose plugin when it is installed, else
# docker-compose; make looks it up each time it runs.
COMPOSE    ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
UP_TIMEOUT ?= 120
SCENARIOS  ?= leader-isolation
RADIUS     ?= node

.PHONY: node partition image up down scenarios-compose

node:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/node ./cmd/node

partition:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/partition ./cmd/partition

image: node
	mkdir -p $(BIN)/image-data
	docker build --tag $(IMAGE) .

up: image
	@test -n "$$FAULTLINE_ADMIN_TOKEN" || { echo "set FAULTLINE_ADMIN_TOKEN to a secret first: the nodes' admin APIs require it"; exit 1; }
	FAULTLINE_IMAGE=$(IMAGE) $(COMPOSE) up --detach
	@ids=$$(FAULTLINE_IMAGE=$(IMAGE) $(COMPOSE) ps --quiet); \
	for i in $$(seq $(UP_TIMEOUT)); do \
		waiting=$$(docker inspect --format '{{.Name}} {{.State.Health.Status}}' $$ids | grep -v ' healthy$$'); \
		if [ -z "$$waiting" ]; then echo "every node is healthy; admin APIs on http://127.0.0.1:8081 to 8083"; exit 0; fi; \
		sleep 1; \
	done; \
	echo "nodes not healthy after $(UP_TIMEOUT) s:"; echo "$$waiting"; exit 1

down:
	FAULTLINE_ADMIN_TOKEN=$${FAULTLINE_ADMIN_TOKEN:-unused} $(COMPOSE) --profile five down

scenarios-compose: image
	FAULTLINE_IMAGE=$(IMAGE) $(GO) run ./cmd/scenario run $(SCENARIOS) --target compose --compose-file docker-compose.yml \
		--allow-blast-radius $(RADIUS) --profile $(PROFILE) --reps $(REPS)

# Nightly: the catalog in process and against docker compose, with JSON,
# Markdown and SVG reports under reports/ (scripts/nightly lists the
# settings). nightly-smoke is the short form that .ci/run runs.
.PHONY: nightly nightly-smoke

nightly: build
	BIN=$(BIN) scripts/nightly

nightly-smoke: build
	BIN=$(BIN) REPS=1 LOCAL_SCENARIOS="leader-isolation handler-failure" \
		COMPOSE_SCENARIOS=leader-isolation REPORTS=reports/smoke scripts/nightly
