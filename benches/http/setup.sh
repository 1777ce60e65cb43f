# Sourced by load.sh and cache.sh (after they set N and PORT): builds the
# release binary, generates and imports $N object types into a temporary
# SQLite file, removes everything on exit, and defines
# `start_server [flags…]`, which starts the server and waits for /readyz.
cargo build --release -q
bin=target/release/ontograph
dir="$(mktemp -d)"
server=""
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" generate --object-types "$N" --seed 1 > "$dir/o.json"
"$bin" import "$dir/o.json" --database-url "sqlite://$dir/og.db" --quiet

start_server() {
  "$bin" --addr "127.0.0.1:$PORT" --database-url "sqlite://$dir/og.db" --no-demo "$@" 2>> "$dir/server.log" &
  server=$!
  for _ in $(seq 1500); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
}
