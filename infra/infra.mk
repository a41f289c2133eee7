# infra/infra.mk — the CDK targets, included by the root Makefile.
#
#   make test-infra        stack assertions, cdk-nag HIPAA pack, cfn-lint (sequential: jsii is not concurrency-safe)
#   make synth             build, then write cdk.out/ with the pinned CDK CLI
#   make cfn-lint          synth, then lint the template with the pinned cfn-lint
#   make deploy PRACTICE_DOMAIN=clinic.example SENDER=no-reply@clinic.example ONCALL_EMAIL=oncall@clinic.example
#   make localstack-deploy the same stack into LocalStack with cdklocal
#   make destroy           delete the stack (data-holding resources are retained, see infra/README.md)
#   make infra-tools       install the pinned CDK CLI, cdklocal and cfn-lint into .local/
#
# Optional: PREFIX (stack name and resource prefix, default carepost), RETENTION_DAYS,
# PUBLIC_URL, SES_RATE, CAMPAIGN_CONCURRENCY, BUILD_DIR.

LOCAL ?= .local
GO ?= go
INFRA_NODE := $(LOCAL)/infra-node
INFRA_VENV := $(LOCAL)/infra-venv
CDK := $(INFRA_NODE)/node_modules/.bin/cdk
CDKLOCAL := $(INFRA_NODE)/node_modules/.bin/cdklocal
CFN_LINT := $(INFRA_VENV)/bin/cfn-lint

PREFIX ?= carepost
BUILD_DIR ?= $(CURDIR)/build
PRACTICE_DOMAIN ?=
SENDER ?=
ONCALL_EMAIL ?=
RETENTION_DAYS ?=
PUBLIC_URL ?=
SES_RATE ?=
CAMPAIGN_CONCURRENCY ?=
CDK_APPROVAL ?= never
LOCALSTACK_URL ?= http://localhost:4566

CDK_CONTEXT = -c prefix=$(PREFIX) -c buildDir=$(BUILD_DIR) \
  $(if $(PRACTICE_DOMAIN),-c practiceDomain=$(PRACTICE_DOMAIN)) \
  $(if $(SENDER),-c senderAddress=$(SENDER)) \
  $(if $(ONCALL_EMAIL),-c onCallEmail=$(ONCALL_EMAIL)) \
  $(if $(RETENTION_DAYS),-c retentionDays=$(RETENTION_DAYS)) \
  $(if $(PUBLIC_URL),-c publicUrl=$(PUBLIC_URL)) \
  $(if $(SES_RATE),-c sesRate=$(SES_RATE)) \
  $(if $(CAMPAIGN_CONCURRENCY),-c campaignConcurrency=$(CAMPAIGN_CONCURRENCY))

# The CLI sends no telemetry and shows no notices (no network but AWS).
CDK_ENV := CDK_DISABLE_CLI_TELEMETRY=true
CDK_FLAGS := --no-notices

.PHONY: infra-tools synth test-infra cfn-lint deploy localstack-deploy destroy

## infra-tools: pinned CDK CLI + cdklocal (npm ci from infra/package-lock.json) and cfn-lint (venv)
infra-tools: $(INFRA_NODE)/.installed $(INFRA_VENV)/.installed

$(INFRA_NODE)/.installed: infra/package.json infra/package-lock.json
	@echo "==> CDK CLI and cdklocal into $(INFRA_NODE)"
	@mkdir -p $(INFRA_NODE)
	@cp infra/package.json infra/package-lock.json $(INFRA_NODE)/
	@cd $(INFRA_NODE) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(INFRA_VENV)/.installed: infra/requirements.txt
	@echo "==> cfn-lint into $(INFRA_VENV)"
	@python3 -m venv $(INFRA_VENV)
	@$(INFRA_VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	@touch $@

## test-infra: go vet + the CDK assertion, cdk-nag and cfn-lint tests, one package at a time
test-infra: $(INFRA_VENV)/.installed
	@echo "==> infra: go vet and tests (sequential; cfn-lint on the synthesized template)"
	@cd infra && $(GO) vet ./... && CAREPOST_CFN_LINT=$(abspath $(CFN_LINT)) $(GO) test -p 1 -count=1 ./...

## synth: cdk.out/<PREFIX>.template.json from the functions in $(BUILD_DIR)
synth: build $(INFRA_NODE)/.installed
	@echo "==> cdk synth -> cdk.out/"
	@$(CDK_ENV) $(CDK) synth $(CDK_FLAGS) --quiet $(CDK_CONTEXT)

## cfn-lint: lint the synthesized template (infra/.cfnlintrc.yaml lists the one ignored check and why)
cfn-lint: synth $(INFRA_VENV)/.installed
	@echo "==> cfn-lint cdk.out/$(PREFIX).template.json"
	@$(CFN_LINT) --config-file infra/.cfnlintrc.yaml -- cdk.out/$(PREFIX).template.json

## deploy: bootstrap the account/region once, then deploy (needs AWS credentials)
deploy: build $(INFRA_NODE)/.installed
	@if [ -z "$(PRACTICE_DOMAIN)" ] || [ -z "$(SENDER)" ] || [ -z "$(ONCALL_EMAIL)" ]; then \
	  echo "usage: make deploy PRACTICE_DOMAIN=clinic.example SENDER=no-reply@clinic.example ONCALL_EMAIL=oncall@clinic.example"; exit 2; fi
	@$(CDK_ENV) $(CDK) bootstrap $(CDK_FLAGS) $(CDK_CONTEXT)
	@$(CDK_ENV) $(CDK) deploy $(PREFIX) $(CDK_FLAGS) --require-approval $(CDK_APPROVAL) \
	  --outputs-file cdk.out/outputs-$(PREFIX).json $(CDK_CONTEXT)
	@echo "==> outputs in cdk.out/outputs-$(PREFIX).json; add the DkimRecord* CNAMEs to DNS and confirm the alarm e-mail"

## localstack-deploy: the same stack into LocalStack (LOCALSTACK_URL); placeholders for the practice
localstack-deploy: build $(INFRA_NODE)/.installed
	@AWS_ENDPOINT_URL=$(LOCALSTACK_URL) AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-test} \
	  AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} AWS_REGION=$${AWS_REGION:-us-east-1} $(CDK_ENV) \
	  sh -c '$(CDKLOCAL) bootstrap $(CDK_FLAGS) $(CDK_CONTEXT) && $(CDKLOCAL) deploy $(PREFIX) $(CDK_FLAGS) --require-approval never $(CDK_CONTEXT)'

## destroy: delete the stack; the table, buckets, user pool, keys, logs and backups are retained
destroy: build $(INFRA_NODE)/.installed
	@$(CDK_ENV) $(CDK) destroy $(PREFIX) $(CDK_FLAGS) --force $(CDK_CONTEXT)
