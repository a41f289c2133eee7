# CarePost — the targets a newcomer can guess.
#   make run     the whole product locally (emulators, resources, demo data, API, workers)
#   make test    installs what the tests need, then unit + integration tests on the emulators
# See README.md for the rest.

SHELL := /bin/bash
GO ?= go
FUNCTIONS := $(notdir $(wildcard functions/*))
LOCAL := .local
DEV := $(LOCAL)/bin/carepost-dev
# First of the four loopback ports the test emulators use (make run uses 18000-18003).
TEST_PORT_BASE ?= 18100
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/$(LOCAL)/jsii-cache

.PHONY: run test install unit integration build bench fuzz lint clean emulators test-env vet help

help:
	@echo "make run | test | build | bench | fuzz | lint | synth | deploy | localstack-deploy | clean"

## install: the emulators (DynamoDB Local, moto, SQS, SES) into .local/, once
install: $(LOCAL)/.installed
$(LOCAL)/.installed: emulators/install.sh emulators/package.json emulators/requirements.lock
	@bash emulators/install.sh
	@touch $@

$(DEV): install $(shell find cmd shared -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
	@echo "==> building carepost-dev"
	@$(GO) build -o $@ ./cmd/carepost-dev

## run: the whole product on 127.0.0.1 (Ctrl-C stops everything it started)
run: $(DEV)
	@$(DEV) run

## emulators: only the emulators on the test ports, for `go test` by hand
emulators: $(DEV)
	@$(DEV) emulators -test

## test-env: the variables that point `go test` at `make emulators`
test-env:
	@for kv in $$($(GO) run ./cmd/carepost-dev env -test); do echo "export $$kv"; done

## fhir-validate: the FHIR R4 validators the export tests run (pinned in tools/fhir-validate)
FHIRVAL := $(LOCAL)/fhir-validate
$(FHIRVAL)/.installed: tools/fhir-validate/package.json tools/fhir-validate/package-lock.json
	@echo "==> installing the FHIR R4 validators into $(FHIRVAL)"
	@mkdir -p $(FHIRVAL) && cp tools/fhir-validate/package.json tools/fhir-validate/package-lock.json $(FHIRVAL)/
	@cd $(FHIRVAL) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## test: everything the tests need is installed, then unit and integration tests
test: $(DEV) $(FHIRVAL)/.installed
	@echo "==> gofmt, go vet, staticcheck"
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run: gofmt -w ."; exit 1; }
	@$(GO) vet ./...
	@$(GO) run $(STATICCHECK) ./...
	@echo "==> unit and integration tests (race detector on) against the emulators on the test ports, then the mail scan"
	@rm -f $(LOCAL)/thread-text.log
	@CAREPOST_THREAD_TEXT_LOG=$(CURDIR)/$(LOCAL)/thread-text.log $(DEV) emulators -base $(TEST_PORT_BASE) -quiet -- \
	  bash -c '$(GO) test -race -count=1 -timeout 15m ./... && $(DEV) mailscan'
	@if [ -f infra/infra.mk ]; then $(MAKE) --no-print-directory test-infra; fi

## build: an arm64 bootstrap zip per Lambda function in build/
build:
	@mkdir -p build
	@for f in $(FUNCTIONS); do \
	  echo "==> build/$$f.zip"; \
	  mkdir -p build/$$f && \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" -o build/$$f/bootstrap ./functions/$$f && \
	  (cd build/$$f && rm -f ../$$f.zip && python3 -c "import zipfile,sys; z=zipfile.ZipFile('../$$f.zip','w',zipfile.ZIP_DEFLATED); i=zipfile.ZipInfo('bootstrap'); i.external_attr=0o755<<16; i.compress_type=zipfile.ZIP_DEFLATED; z.writestr(i, open('bootstrap','rb').read()); z.close()") || exit 1; \
	done

## bench: benchmarks with their figures (KMS calls, write units, ns/op)
bench: $(DEV)
	@$(DEV) emulators -base $(TEST_PORT_BASE) -quiet -- $(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## fuzz: each fuzz target for 20 s
fuzz:
	@for t in $$(grep -rl --include='*_test.go' '^func Fuzz' shared functions | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$t/*_test.go | cut -c6-); do \
	    echo "==> $$t $$f"; $(GO) test ./$$t -run '^$$' -fuzz "^$$f$$" -fuzztime 20s || exit 1; \
	  done; \
	done

## lint: gofmt, go vet, staticcheck, govulncheck (pinned versions)
lint:
	@echo "==> gofmt"; test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run: gofmt -w ."; exit 1; }
	@echo "==> go vet"; $(GO) vet ./...
	@echo "==> staticcheck"; $(GO) run $(STATICCHECK) ./... && (cd infra && $(GO) run $(STATICCHECK) ./...)
	@echo "==> govulncheck (needs the vulnerability database at vuln.go.dev)"
	@if curl -s -m 5 -o /dev/null https://vuln.go.dev/index/db.json.gz; then \
	  $(GO) run golang.org/x/vuln/cmd/govulncheck@v1.1.4 ./...; \
	else echo "    vuln.go.dev is unreachable from this machine: govulncheck skipped (run make lint where it is reachable)"; fi

clean:
	rm -rf build cdk.out $(LOCAL)/bin

-include infra/infra.mk
