#!/usr/bin/env bash
# What authentication costs: `{ __typename }` throughput on loopback with
# wrk, in open mode (no authentication) and with authentication on: an API
# token, a JWT (HS256), and no credentials (anonymous read). Runs each
# twice, alternating, and prints each mode's req/s against open mode's.
# Usage: DURATION=10s CONNECTIONS=8 bash benches/http/auth.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-1000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
PORT="${PORT:-18082}"
URL="http://127.0.0.1:$PORT/graphql"
source benches/http/setup.sh
typename='{"query":"{ __typename }"}'
secret="a shared secret of at least thirty-two characters!"

run() { # $1 = label, $2 = Authorization value; prints "label req/s p50 p99"
  AUTH="$2" BODY="$typename" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/http/post.lua "$URL" \
    > "$dir/wrk.txt"
  rps=$(awk '/Requests\/sec/ { print $2 }' "$dir/wrk.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$dir/wrk.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$dir/wrk.txt")
  echo "$1 $rps $p50 $p99"
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; }

# A JWT for the HS256 secret, made with Python's standard library.
jwt="$(python3 - "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda d: base64.urlsafe_b64encode(json.dumps(d, separators=(",", ":")).encode()).rstrip(b"=")
msg = b({"alg": "HS256", "typ": "JWT"}) + b"." + b({"sub": "bench", "role": "viewer", "exp": int(time.time()) + 3600})
sig = base64.urlsafe_b64encode(hmac.new(sys.argv[1].encode(), msg, hashlib.sha256).digest()).rstrip(b"=")
print((msg + b"." + sig).decode())
PY
)"
for round in 1 2; do
  start_server
  run open "" | tee -a "$dir/results.txt"
  stop_server
  token="$("$bin" token create --database-url "sqlite://$dir/og.db" --name "bench$round" --role viewer 2>/dev/null)"
  start_server --jwt-secret "$secret"
  run token "Bearer $token" | tee -a "$dir/results.txt"
  run jwt "Bearer $jwt" | tee -a "$dir/results.txt"
  run anonymous "" | tee -a "$dir/results.txt"
  stop_server
  "$bin" token revoke --database-url "sqlite://$dir/og.db" "bench$round" 2>/dev/null
done
awk '{ s[$1] += $2 } END { for (m in s) if (m != "open") printf "%s: %.3f of open mode'"'"'s req/s\n", m, s[m] / s["open"] }' \
  "$dir/results.txt" | sort
