#!/usr/bin/env bash
# Introspection with standard tooling: start the (already built) server on
# an in-memory database, introspect it with graphql-js and compare against
# schema/ontograph.graphql. Run from anywhere after `cargo build`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${ONTOGRAPH_BIN:-$root/target/debug/ontograph}"

[[ -x "$bin" ]] || { echo "run.sh: $bin not found; run 'cargo build' first" >&2; exit 2; }

(cd "$here" && { npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; })

log="$(mktemp)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

RUST_LOG=info "$bin" --addr 127.0.0.1:0 --database-url sqlite::memory: --no-demo --log-format json \
  >/dev/null 2>"$log" &
pid=$!

# Wait (at most 60 s) for the JSON log line carrying the bound address.
addr=""
for _ in $(seq 1 600); do
  addr="$(grep -m1 '"listening' "$log" | sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' || true)"
  [[ -n "$addr" ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "run.sh: ontograph exited before listening:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$addr" ]]; then
  echo "run.sh: ontograph did not report its address within 60 s:" >&2
  cat "$log" >&2
  exit 1
fi

status=0
node "$here/check.mjs" "http://$addr/graphql" "$root/schema/ontograph.graphql" || status=$?
exit "$status"
