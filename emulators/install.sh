#!/usr/bin/env bash
# Installs the local AWS emulators into .local/ (ignored by git), once.
# Re-running is cheap: each step is skipped when its stamp is newer than its
# inputs. Nothing is downloaded at run time afterwards.
#   DynamoDB Local 1.25.1 (the real one, Java 17) from the npm package amplify-dynamodb-simulator
#   SQS (local-aws-sqs) and SES v2 (aws-ses-v2-local) emulators from npm
#   moto server (KMS, S3) from PyPI into a project-local virtualenv
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
local="$root/.local"
mkdir -p "$local"

need() { # need CMD "how to install it"
  command -v "$1" >/dev/null 2>&1 || { echo "install.sh: '$1' is missing. $2" >&2; exit 1; }
}
need java    "Install Java 17 or newer: apt-get install -y openjdk-17-jre-headless"
need node    "Install Node.js 18 or newer: apt-get install -y nodejs npm"
need npm     "Install npm: apt-get install -y npm"
need python3 "Install Python 3.9 or newer: apt-get install -y python3 python3-venv"
javav=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
if [ "${javav:-0}" -lt 17 ]; then
  echo "install.sh: DynamoDB Local needs Java 17+, found ${javav:-none}. apt-get install -y openjdk-17-jre-headless" >&2; exit 1
fi

step() { printf '==> %s\n' "$*"; }

if [ ! -f "$local/dynamodb/emulator/DynamoDBLocal.jar" ]; then
  step "DynamoDB Local 1.25.1: unpacking amplify-dynamodb-simulator@2.9.30 from npm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent amplify-dynamodb-simulator@2.9.30 >/dev/null && tar xzf amplify-dynamodb-simulator-2.9.30.tgz)
  rm -rf "$local/dynamodb" && mv "$tmp/package" "$local/dynamodb" && rm -rf "$tmp"
else
  step "DynamoDB Local: already installed"
fi

if [ ! -f "$local/node/.stamp" ] || [ "$root/emulators/package.json" -nt "$local/node/.stamp" ]; then
  step "SQS and SES v2 emulators: npm install into .local/node (about 15 s)"
  mkdir -p "$local/node"
  cp "$root/emulators/package.json" "$local/node/package.json"
  [ -f "$root/emulators/package-lock.json" ] && cp "$root/emulators/package-lock.json" "$local/node/package-lock.json"
  (cd "$local/node" && npm install --no-audit --no-fund --loglevel=error)
  touch "$local/node/.stamp"
else
  step "SQS and SES v2 emulators: already installed"
fi

if [ ! -f "$local/venv/.stamp" ] || [ "$root/emulators/requirements.lock" -nt "$local/venv/.stamp" ]; then
  step "moto server (KMS, S3): pip install into .local/venv (about a minute)"
  python3 -m venv "$local/venv" || { echo "install.sh: python3 -m venv failed. apt-get install -y python3-venv" >&2; exit 1; }
  "$local/venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/emulators/requirements.lock"
  touch "$local/venv/.stamp"
else
  step "moto server: already installed"
fi
step "emulators installed in .local/"
