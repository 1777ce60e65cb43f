# Sourced by the CI scripts: `start_ontograph [extra flags…]` starts the
# already built binary on port 0 and an in-memory database (or the one
# $ONTOGRAPH_TEST_DB names), waits (at most
# 60 s) for the JSON log line with the bound address, and sets `addr` and
# `server_pid`; the server is killed when the sourcing script exits.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${ONTOGRAPH_BIN:-$root/target/debug/ontograph}"
server_log="$(mktemp)"
server_pid=""
addr=""

stop_ontograph() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$server_log"
}
trap stop_ontograph EXIT

start_ontograph() {
  [[ -x "$bin" ]] || { echo "$bin not found; run 'cargo build' first" >&2; exit 2; }
  RUST_LOG=info "$bin" --addr 127.0.0.1:0 --database-url "${ONTOGRAPH_TEST_DB:-sqlite::memory:}" --log-format json "$@" \
    >/dev/null 2>"$server_log" &
  server_pid=$!
  for _ in $(seq 1 600); do
    addr="$(grep -m1 '"listening' "$server_log" | sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' || true)"
    [[ -n "$addr" ]] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "ontograph exited before listening:" >&2
      cat "$server_log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "ontograph did not report its address within 60 s:" >&2
  cat "$server_log" >&2
  exit 1
}
