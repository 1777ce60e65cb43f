#!/usr/bin/env bash
# GraphiQL in a real browser (headless Chromium, network closed) against
# the real server with the demo ontology. Installs Debian's chromium when
# it is missing (CI machines start fresh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../support/serve.sh"

chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" ]]; then
  echo "installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
  chromium="$(command -v chromium)"
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
start_ontograph
node "$here/check.mjs" "http://$addr" "$chromium"
stop_ontograph

# With authentication on and anonymous access off: GraphiQL's Headers tab
# carries the token.
db_dir="$(mktemp -d)"
trap 'stop_ontograph; rm -rf "$db_dir"' EXIT
export ONTOGRAPH_TEST_DB="sqlite://$db_dir/graphiql.db"
token="$("$bin" token create --database-url "$ONTOGRAPH_TEST_DB" --name graphiql --role viewer 2>/dev/null)"
start_ontograph --anonymous none
node "$here/check.mjs" "http://$addr" "$chromium" "$token"
