#!/usr/bin/env bash
# Frontend clients against the real server (the debug binary, as the other
# client checks): each suite gets a fresh server with the demo ontology.
#   Apollo Client 3 and 4, default InMemoryCache (apollo3.mjs, apollo4/)
#   urql with @urql/exchange-graphcache (urql.mjs)
#   relay-compiler + relay-runtime, no React (relay/)
#   GraphQL Code Generator, then tsc --noEmit (codegen/)
#   graphql-ws (subscriptions.mjs)
# and first, that docs/frontend.md shows each snippet file verbatim.
# Every suite runs; the script fails when one failed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../support/serve.sh"

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$here/apollo4" && npm ci --no-audit --no-fund --loglevel=error)

status=0
node "$here/docs-check.mjs" || status=1

suite() {
  start_ontograph
  "$@" "http://$addr/graphql" || status=1
  stop_ontograph
}
suite node "$here/apollo3.mjs"
# Apollo 4 prints its warnings only in its development build.
suite node --conditions=development "$here/apollo4/test.mjs"
suite node "$here/urql.mjs"
suite node "$here/relay/run.mjs"
suite node "$here/codegen/run.mjs"
suite node "$here/subscriptions.mjs"
exit "$status"
