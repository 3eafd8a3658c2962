#!/usr/bin/env bash
# scripts/sandbox.sh SERVER SCENARIO PORT: the teaching sandbox (make sandbox). Starts
# syncfake-server on a manual clock with a teaching scenario already played, then prints the
# page to open and the credentials to sign in with. Ctrl-C stops the server.
set -euo pipefail
server=$1
scenario=$2
port=$3
out=$(mktemp)
"$server" --clock manual --port "$port" --scenario "$scenario" >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
trap 'exit 0' INT TERM
# the server prints its address and credentials once it serves (instance_id comes last)
for _ in $(seq 100); do
    grep -q '^instance_id ' "$out" && break
    if ! kill -0 "$pid" 2>/dev/null; then
        set +e; wait "$pid"; status=$?; set -e
        echo "sandbox: syncfake-server did not start (status $status)" >&2
        exit 1
    fi
    sleep 0.1
done
grep -q '^instance_id ' "$out" || { echo "sandbox: syncfake-server did not answer in 10 s" >&2; exit 1; }
url=$(sed -n 's/^syncfake-server listening on //p' "$out")
sid=$(sed -n 's/^account_sid //p' "$out")
token=$(sed -n 's/^auth_token //p' "$out")
cat <<EOT

  syncfake sandbox: $(basename "$scenario") played on a manual clock

  open      $url/_syncfake/ui
  user      $sid
  password  $token

  The page shows every subscriber's lane; move the clock from the page, or with
    curl -u $sid:$token -d AdvanceMs=1000 $url/_syncfake/clock
  Another scenario: make sandbox SANDBOX_SCENARIO=examples/scenarios/partition_and_heal.scn
  Ctrl-C stops the server.

EOT
wait "$pid"
