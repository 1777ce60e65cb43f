#!/usr/bin/env bash
# GraphQL over HTTP conformance: runs the graphql-http package's
# serverAudits against the real server. Fails when a MUST audit fails;
# prints every audit's result (the SHOULD/MAY ones are listed in docs/production.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../support/serve.sh"

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
start_ontograph
node "$here/audit.mjs" "http://$addr/graphql"
