# certinel. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

BIN        := $(CURDIR)/bin
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO_TEST    ?= go test
export KUBEBUILDER_ASSETS := $(BIN)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/certinel
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN)/certinel ./cmd/certinel

PLUGIN_DIR ?= $(HOME)/.local/bin
.PHONY: plugin
plugin: build ## link bin/certinel as kubectl-certinel into PLUGIN_DIR (~/.local/bin, on PATH) for `kubectl certinel status`
	mkdir -p $(PLUGIN_DIR)
	ln -sf $(BIN)/certinel $(PLUGIN_DIR)/kubectl-certinel

.PHONY: tools
tools: ## build or link kube-apiserver, kube-controller-manager, kubectl and etcd into bin/
	@e2e/tools/ensure-binaries.sh >/dev/null

.PHONY: deps
deps: ## install keytool, java and openssl when missing (Debian, as root)
	@e2e/tools/ensure-deps.sh

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l cmd controllers pkg e2e); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	go vet ./...

.PHONY: test
test: tools deps lint ## run every test: unit, fuzz seeds, e2e against a real API server
	$(GO_TEST) -count=1 -timeout 30m ./...

.PHONY: demo
demo: tools deps ## start a local control plane and certinel, annotate a Secret, show its keystore
	go run ./e2e/demo $(DEMO_FLAGS)

.PHONY: bench
bench: tools ## keystore micro-benchmarks, then 1000 Secrets, 1000 Routes, a CA rotation into 1000 ConfigMaps and 1000 reloaded Deployments against a local API server
	go test -run '^$$' -bench . -benchmem ./pkg/...
	go run ./e2e/bench $(BENCH_FLAGS)
	go run ./e2e/bench -scenario routes -out .bench/routes.txt $(BENCH_FLAGS)
	go run ./e2e/bench -scenario reload -out .bench/reload.txt $(BENCH_FLAGS)

FUZZTIME ?= 30s
.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME
	@for pkg in $$(go list ./pkg/...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; go test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

.PHONY: crds
crds: ## copy the CRDs of other projects that tests serve (OpenShift's Route) from their pinned Go modules
	@mkdir -p config/crd/external
	cp "$$(go list -m -f '{{.Dir}}' github.com/openshift/api)/route/v1/zz_generated.crd-manifests/routes.crd.yaml" config/crd/external/route.openshift.io_routes.yaml
	chmod 644 config/crd/external/*.yaml

.PHONY: clean
clean: ## remove bin/ (the control-plane cache in ~/.cache/certinel stays)
	rm -rf $(BIN)
