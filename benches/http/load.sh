#!/usr/bin/env bash
# HTTP load on loopback with wrk (Debian package `wrk`). Builds the release
# binary, generates and imports an ontology of $N object types, starts the
# server, and reports throughput and latency for:
#   1. { __typename }                         (idle baseline; 1 and 8 connections)
#   2. a 3-hop traverse from the hub T0        (BOTH, limit 1000; 1 and 8 connections)
#   3. { __typename } while 8 connections keep deep traversals running (1 connection)
# Usage: N=100000 DURATION=10s bash benches/http/load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-100000}"
DURATION="${DURATION:-10s}"
PORT="${PORT:-18080}"
URL="http://127.0.0.1:$PORT/graphql"
source benches/http/setup.sh
# The caches are off: this measures computing traversals (the caches have
# their own script, benches/http/cache.sh).
start_server --cache-capacity-bytes 0 --response-cache-bytes 0

typename='{"query":"{ __typename }"}'
three_hop='{"query":"{ branch { traverse(from: [\"T0\"], direction: BOTH, maxDepth: 3, limit: 1000) { nodes { apiName depth } truncated } } }"}'
deep='{"query":"{ branch { traverse(from: [\"T0\"], direction: BOTH, maxDepth: 64, limit: 100000) { truncated } } }"}'
# Warm the graph index once so the first measurement does not include it.
curl -s "$URL" -H 'content-type: application/json' -d "$three_hop" > /dev/null

run() { BODY="$2" wrk -t1 -c"$3" -d"$DURATION" --latency -s benches/http/post.lua "$URL" | sed "s/^/[$1] /"; }
run "typename idle, 1 conn" "$typename" 1
run "typename idle, 8 conns" "$typename" 8
run "3-hop traverse, 1 conn" "$three_hop" 1
run "3-hop traverse, 8 conns" "$three_hop" 8
BODY="$deep" wrk -t1 -c8 -d"$DURATION" -s benches/http/post.lua "$URL" > "$dir/deep.txt" &
deep_pid=$!
sleep 1
run "typename under 8 deep traversals, 1 conn" "$typename" 1
wait "$deep_pid"
sed "s/^/[deep traversals] /" "$dir/deep.txt"
