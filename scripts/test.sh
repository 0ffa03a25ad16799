#!/usr/bin/env bash
# The whole test run, for a fresh Debian clone and for CI (.ci/run): installs what is missing, then
# type-checks, builds, packages the VSIX and runs the three tiers (unit, integration, end-to-end in
# code-server). Needs Node 20+ and npm; runs unattended (no stdin, CI=true is fine).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ -t 1 ]]; then
  section() { printf '\n\033[1m===== %s =====\033[0m\n' "$*"; }
else
  section() { printf '\n===== %s =====\n' "$*"; }
fi
started=$SECONDS

section "Toolchain"
if ! command -v node >/dev/null || (($(node -p 'process.versions.node.split(".")[0]') < 20)); then
  echo "Node 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
echo "node $(node --version), npm $(npm --version)"

section "System packages"
# chromium: the browser the e2e tier drives; libkrb5-dev, build-essential, pkg-config: code-server's native
# modules; python3: the fixture training scripts; openssh-server, rsync: the remote-host integration tests;
# slurm-wlm, munge: the one-node Slurm cluster of the Slurm integration tests; mariadb-server, slurmdbd: its
# accounting (the sacct tests start their own throwaway database and slurmdbd, not the system services);
# python3-sklearn, python3-torch, python3-optuna: the sweep benchmark's real training tasks and its Optuna
# baseline (bench/sweeps/, npm run bench:sweep), which an integration test runs briefly.
missing=()
for pkg in chromium libkrb5-dev build-essential pkg-config python3 openssh-server rsync ca-certificates slurm-wlm munge mariadb-server slurmdbd python3-sklearn python3-torch python3-optuna; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo -n"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
else
  echo "all present"
fi

section "npm dependencies"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund </dev/null
else
  echo "node_modules is up to date with package-lock.json"
fi

section "code-server"
bash scripts/setupCodeServer.sh </dev/null

section "Type check"
npm run typecheck
npm run --if-present lint

section "Build and package"
npm run build
npm run package

# The tiers all run even when one fails, so a single run reports every broken tier.
failed=()
for tier in unit integration e2e; do
  section "Tests: $tier"
  tier_started=$SECONDS
  if npm run "test:$tier" </dev/null; then
    echo "test:$tier passed in $((SECONDS - tier_started)) s"
  else
    echo "test:$tier FAILED after $((SECONDS - tier_started)) s"
    failed+=("$tier")
  fi
done

section "Summary"
echo "total $((SECONDS - started)) s; e2e screenshots and logs are in test-output/e2e/"
if ((${#failed[@]})); then
  echo "FAILED tiers: ${failed[*]}" >&2
  exit 1
fi
echo "all tiers passed"
