#!/usr/bin/env bash
# Runs a command with moto_server (a real AWS API server: DynamoDB, SQS, ...)
# listening on a free loopback port named in MOTO_ENDPOINT, and stops it after.
# Usage: infra/test/with-moto.sh go test ./...
set -euo pipefail
if ! command -v moto_server >/dev/null 2>&1; then
  echo "moto_server not found: pip install 'moto[server]==5.2.1'" >&2
  exit 1
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp -t moto.XXXXXX.log)
moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then break; fi
  if ! kill -0 $pid 2>/dev/null; then echo "moto_server exited:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.1
done
export MOTO_ENDPOINT="http://127.0.0.1:$port"
echo "moto_server on $MOTO_ENDPOINT" >&2
"$@"
