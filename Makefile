# Coffer build, run and test targets. `make help` lists them.
GO        ?= go
BIN       := bin
TOOLS_BIN := $(CURDIR)/bin/tools
GOLANGCI_LINT_VERSION := v2.15.0

.PHONY: help build run test unit e2e tools lint bench fuzz mutation clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build cofferd and the coffer CLI into bin/
	$(GO) build -o $(BIN)/cofferd ./cmd/cofferd
	$(GO) build -o $(BIN)/coffer ./cmd/coffer

run: build ## start cofferd with the embedded defaults (data in ./coffer-data)
	$(BIN)/cofferd

test: tools unit e2e ## run every test: unit tests with the race detector, then end-to-end tests

# The migration acceptance test copies 11,000 records into PostgreSQL and
# versitygw; it runs without the race detector, which would slow it several
# times over, after the rest of the unit tests.
BIG_UNIT_TESTS := TestMigrateToPostgresAndS3

unit: ## unit and contract tests with the race detector (everything but test/e2e)
	COFFER_VERSITYGW=$(TOOLS_BIN)/versitygw $(GO) test -race -count=1 -skip '^($(BIG_UNIT_TESTS))$$' $$($(GO) list ./... | grep -v /test/e2e)
	COFFER_VERSITYGW=$(TOOLS_BIN)/versitygw $(GO) test -count=1 -timeout 20m -run '^($(BIG_UNIT_TESTS))$$' ./internal/migrate/

tools: ## build the third-party clients the e2e tests drive into bin/tools
	bash test/e2e/install-tools.sh

e2e: tools ## end-to-end tests with real clients and the OCI conformance suite
	COFFER_TOOLS_BIN=$(TOOLS_BIN) $(GO) test -count=1 -timeout 25m ./test/e2e/...

lint: ## go vet, then golangci-lint with the curated configuration in .golangci.yml
	$(GO) vet ./...
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...

bench: build ## side-by-side benchmarks: OCI with CNCF Distribution, S3 with versitygw, the S3 driver over versitygw (see docs/benchmarks.md)
	bash test/bench/run.sh
	bash test/bench/run-s3.sh
	bash test/bench/run-s3driver.sh

fuzz: ## run every fuzz target for FUZZTIME (default 20s) each
	bash scripts/fuzz.sh $(or $(FUZZTIME),20s)

mutation: ## mutation testing of the policy engine with gremlins (slow; not part of test)
	bash scripts/mutation.sh

clean: ## remove build output
	rm -rf $(BIN)
