#!/usr/bin/env bash
# Try TrainQ in a real VS Code in the browser: builds and installs the VSIX into code-server, opens a sample
# workspace with two small training scripts, and serves it on http://127.0.0.1:${PORT:-8080}.
#
#   TRAINQ_FAKE_GPUS=N   put test/fixtures/bin first on PATH: its fake nvidia-smi reports N GPUs. Unset,
#                        TrainQ sees this machine's real GPUs, if any.
#   TRAINQ_WORKSPACE=DIR open DIR instead of the sample workspace.
#   PORT=N               serve on another port.
# State (settings, the job queue) persists in the cache between runs; delete $CACHE/try to start afresh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

CACHE=${TRAINQ_CACHE:-$HOME/.cache/trainq}
PORT=${PORT:-8080}
code_server=$CACHE/code-server/code-server
workspace=${TRAINQ_WORKSPACE:-$CACHE/sample-workspace}

bash scripts/setupCodeServer.sh
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run build
npm run package

"$code_server" --extensions-dir "$CACHE/try/extensions" --install-extension "$repo/dist/trainq.vsix" --force

if [[ ! -d $workspace ]]; then
  mkdir -p "$(dirname "$workspace")"
  cp -r "$repo/test/fixtures/workspace" "$workspace"
  echo "created the sample workspace $workspace"
fi

# First run only (later edits are the user's): open the workspace's README, keep the chat panel closed.
settings=$CACHE/try/user-data/User/settings.json
if [[ ! -f $settings ]]; then
  mkdir -p "$(dirname "$settings")"
  cat >"$settings" <<'JSON'
{
  "workbench.startupEditor": "readme",
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false
}
JSON
fi

extra_args=()
if [[ -z ${TRAINQ_WORKSPACE:-} ]]; then
  # The sample's scripts are ours: trust it for this session. Your own workspace gets the usual
  # Workspace Trust prompt, and TrainQ runs nothing there until you trust it.
  extra_args+=(--disable-workspace-trust)
fi

if [[ -n ${TRAINQ_FAKE_GPUS:-} ]]; then
  export PATH="$repo/test/fixtures/bin:$PATH"
  # Otherwise the server takes the extension host's PATH from a login shell, which drops the line above.
  extra_args+=(--vscode-option force-disable-user-env)
  echo "using the fake nvidia-smi from test/fixtures/bin ($TRAINQ_FAKE_GPUS simulated GPUs)"
fi

url="http://127.0.0.1:$PORT/?folder=$workspace"
cat <<MSG

TrainQ is served at
  $url
(on a remote machine: ssh -L $PORT:127.0.0.1:$PORT <host>, then open the URL locally). Ctrl+C stops it.

MSG
# Its own config file, so nothing is written to ~/.config/code-server.
[[ -f $CACHE/try/config.yaml ]] || echo "auth: none" >"$CACHE/try/config.yaml"
exec "$code_server" \
  --config "$CACHE/try/config.yaml" \
  --auth none \
  --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry \
  --disable-update-check \
  --extensions-dir "$CACHE/try/extensions" \
  --user-data-dir "$CACHE/try/user-data" \
  "${extra_args[@]}" \
  "$workspace"
