# The project's verbs. `make run` starts the local stack; `make test` runs every test.
# SAM's Makefile builder calls the build-<LogicalId> targets with ARTIFACTS_DIR set.

SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/.bin
GOFLAGS_LAMBDA := -tags lambda.norpc -trimpath -ldflags='-s -w'
LAMBDA_ENV := CGO_ENABLED=0 GOOS=linux GOARCH=arm64
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
CFN_LINT_VERSION := 1.51.0
MOTO_VERSION := 5.2.1

.PHONY: all build run test test-unit test-integration lint bench tools deploy clean sizes dlq redrive redrive-status redrive-cancel

all: build

# --- build -------------------------------------------------------------------
# Every function <Name>Function of template.yaml is built from functions/<name>
# (the logical ID without "Function", in lower case): one pattern rule gives
# SAM's Makefile builder its build-<LogicalId> target for each, so a new
# function needs no line here.
build-%Function:
	$(LAMBDA_ENV) $(GO) build $(GOFLAGS_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | tr '[:upper:]' '[:lower:]')

## build: every Lambda function as an arm64 bootstrap under .aws-sam/build/<LogicalId>/
build:
	@for d in functions/*/; do n=$$(basename $$d); id=$$(echo $${n:0:1} | tr '[:lower:]' '[:upper:]')$${n:1}Function; \
	  $(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/$$id || exit 1; done

## sizes: the size of each built bootstrap
sizes: build
	@ls -l .aws-sam/build/*/bootstrap | awk '{printf "%-60s %8.2f MiB\n", $$9, $$5/1048576}'

# --- run ---------------------------------------------------------------------
## run: the whole system on one machine (ws://127.0.0.1:3001)
# Built, then exec'd: the stack itself gets Ctrl-C and stops cleanly with exit
# status 0 (`go run` reports 1 when interrupted, whatever its program returns).
run:
	$(GO) build -o $(BIN)/local-stack ./infra/local
	exec $(BIN)/local-stack

# --- tools -------------------------------------------------------------------
$(BIN)/aws-lambda-rie:
	GOBIN=$(BIN) $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

tools: $(BIN)/aws-lambda-rie
	@python3 -c 'import moto, sys; sys.exit(0 if moto.__version__ == "$(MOTO_VERSION)" else 1)' 2>/dev/null || \
	  pip install "moto[server]==$(MOTO_VERSION)"
	@cfn-lint --version 2>/dev/null | grep -q "$(CFN_LINT_VERSION)" || pip install "cfn-lint==$(CFN_LINT_VERSION)"
	@command -v aws >/dev/null 2>&1 || pip install awscli
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@[ -d web/node_modules/playwright-core ] || (cd web && npm ci --no-audit --no-fund)

# --- test --------------------------------------------------------------------
## test: lint the template, then every Go test with moto_server running
test: tools lint
	RIE=$(BIN)/aws-lambda-rie infra/test/with-moto.sh $(GO) test -count=1 -timeout 20m ./...

## test-unit: the tests that need no service (moto-backed tests skip)
test-unit:
	$(GO) test ./...

## lint: go vet, gofmt and cfn-lint on template.yaml
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	cfn-lint template.yaml

## bench: speed and memory benchmarks (Lambda binaries under aws-lambda-rie too)
bench: tools
	RIE=$(BIN)/aws-lambda-rie infra/test/with-moto.sh $(GO) test -run '^$$' -bench . -benchmem ./...

## deploy: build and deploy with SAM (ENV=dev|prod)
deploy:
	sam build && sam deploy --config-env $(or $(ENV),default)

# --- operate -----------------------------------------------------------------
# Dead-letter queues (infra/ops/dlq.sh): ENV=local (the running `make run`
# stack; LOCAL_PORT if not 3001) or a samconfig.toml env (dev, prod);
# QUEUE=workflow or notification.

## dlq: print each message of a dead-letter queue with its reason, without taking it (ENV=... QUEUE=...)
dlq:
	@infra/ops/dlq.sh peek "$(ENV)" "$(QUEUE)"

## redrive: move a dead-letter queue's messages back to its source queue (ENV=... QUEUE=... [RATE=n a second])
redrive:
	@infra/ops/dlq.sh redrive "$(ENV)" "$(QUEUE)"

## redrive-status: the latest redrive tasks of a dead-letter queue (ENV=... QUEUE=...)
redrive-status:
	@infra/ops/dlq.sh status "$(ENV)" "$(QUEUE)"

## redrive-cancel: cancel the running redrive of a dead-letter queue (ENV=... QUEUE=...)
redrive-cancel:
	@infra/ops/dlq.sh cancel "$(ENV)" "$(QUEUE)"

clean:
	rm -rf .aws-sam $(BIN)
