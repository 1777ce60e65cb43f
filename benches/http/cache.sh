#!/usr/bin/env bash
# The result cache over HTTP on loopback with wrk (Debian package `wrk`):
# throughput and latency of a repeated 3-hop traverse returning ~50 nodes
# (served from the cache) against `{ __typename }` on the same server, as
# a ratio; then, for reference, the same without the whole-response cache
# and with the result cache off.
# Builds the release binary, generates and imports $N object types.
# Usage: N=10000 DURATION=10s CONNECTIONS=8 bash benches/http/cache.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-10000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-8}"
PORT="${PORT:-18081}"
URL="http://127.0.0.1:$PORT/graphql"
source benches/http/setup.sh
traverse() { # $1 = start node, $2 = selection
  printf '{"query":"{ branch { traverse(from: [\\"%s\\"], direction: OUTGOING, maxDepth: 3, limit: 1000) { %s } } }"}' "$1" "$2"
}

start_server
# A start node whose 3-hop OUTGOING neighbourhood has 40-60 nodes (BOTH
# reaches a hub, and through it most of the graph, in 3 hops).
start=""
for i in $(seq 0 $((N - 1))); do
  n=$(curl -s "$URL" -H 'content-type: application/json' -d "$(traverse "T$i" 'nodes { depth }')" |
    jq '.data.branch.traverse.nodes | length')
  if [ "$n" -ge 40 ] && [ "$n" -le 60 ]; then start="T$i"; break; fi
done
[ -n "$start" ] || { echo "no start node with 40-60 nodes within 3 hops" >&2; exit 1; }
typename='{"query":"{ __typename }"}'
three_hop="$(traverse "$start" 'nodes { apiName depth } edges { source target relation } truncated cached')"
echo "start node $start: $(curl -s "$URL" -H 'content-type: application/json' -d "$three_hop" |
  jq -c '.data.branch.traverse | {nodes: (.nodes | length), edges: (.edges | length), cached}')"

run() { # $1 = label, $2 = body; prints "label req/s p50 p99"
  BODY="$2" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/http/post.lua "$URL" > "$dir/wrk.txt"
  rps=$(awk '/Requests\/sec/ { print $2 }' "$dir/wrk.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$dir/wrk.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$dir/wrk.txt")
  echo "$1 $rps $p50 $p99"
}
{
  run typename "$typename"
  run traverse-cached "$three_hop"
  run typename "$typename"
  run traverse-cached "$three_hop"
} | tee "$dir/results.txt"
kill "$server"; wait "$server" 2>/dev/null || true
# For reference: without the whole-response cache (result cache only).
start_server --response-cache-bytes 0
{
  run typename-no-response-cache "$typename"
  run traverse-cached-no-response-cache "$three_hop"
  run traverse-cached-no-response-cache "$three_hop"
} | tee -a "$dir/results.txt"
kill "$server"; wait "$server" 2>/dev/null || true
start_server --cache-capacity-bytes 0
run traverse-uncached "$three_hop"
echo "cached traverse throughput: 1/$(awk '$1 == "typename" { t += $2 } $1 == "traverse-cached" { c += $2 } END { printf "%.2f", t / c }' "$dir/results.txt") of { __typename }'s (ratio of summed req/s)"
