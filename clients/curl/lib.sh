# Helpers for the walkthrough scripts: one HTTP call that prints what it does and checks the status.
# Needs curl and python3 (for reading JSON). BASE_URL defaults to the README's address.
set -euo pipefail
BASE_URL="${BASE_URL:-http://127.0.0.1:3000}"
BODY_FILE="$(mktemp)"
trap 'rm -f "$BODY_FILE"' EXIT

# api EXPECTED_STATUS METHOD PATH [JSON_BODY] -- the response body is left in $BODY_FILE.
api() {
  local expected="$1" method="$2" path="$3" body="${4:-}"
  local args=(-sS -o "$BODY_FILE" -w '%{http_code}' -X "$method" "$BASE_URL$path")
  [ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  local status
  status="$(curl "${args[@]}")"
  echo "--> $method $path  [$status]"
  if [ "$status" != "$expected" ]; then
    echo "expected $expected, got $status:" >&2
    cat "$BODY_FILE" >&2
    exit 1
  fi
}

# upload EXPECTED_STATUS PATH FILE -- a multipart/form-data POST with FILE in the field `file`.
upload() {
  local expected="$1" path="$2" file="$3"
  local args=(-sS -o "$BODY_FILE" -w '%{http_code}' -X POST "$BASE_URL$path" -F "file=@$file")
  [ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
  local status
  status="$(curl "${args[@]}")"
  echo "--> POST $path (file $(basename "$file"))  [$status]"
  if [ "$status" != "$expected" ]; then
    echo "expected $expected, got $status:" >&2
    cat "$BODY_FILE" >&2
    exit 1
  fi
}

# field EXPRESSION -- reads the last response body: field '["user"]["id"]'
field() {
  python3 -c 'import json, sys; print(eval("json.load(open(sys.argv[1]))" + sys.argv[2]))' "$BODY_FILE" "$1"
}

show() {
  python3 -m json.tool "$BODY_FILE" | sed 's/^/    /'
}
