#!/usr/bin/env bash
# API contract test: runs schemathesis (PyPI `schemathesis`, pinned below) against a running Kino
# server, generating requests from the OpenAPI document the server itself publishes at
# GET /api/openapi.json and checking every response against that document. Schemathesis is kept
# in a virtualenv under ${KINO_TOOLS_DIR:-$HOME/.cache/kino-tools}/schemathesis-venv and
# installed only when missing or when the pinned version changes (same pattern as
# scripts/s3-server.sh; a flock makes concurrent callers wait for the first install).
#
#   scripts/api-contract.sh BASE_URL TOKEN [STATEDIR]
#       BASE_URL  e.g. http://127.0.0.1:8080 (no trailing path)
#       TOKEN     an admin API bearer token (scopes read,write,upload,admin)
#       STATEDIR  reports go here (default ${TMPDIR:-/tmp}/kino-api-contract); after a run it
#                 holds junit.xml (one test case per operation) and schemathesis.toml.
#   Exits 0 when every check passed, non-zero on any failure, error or unreachable server.
#   Run it against a throwaway server: it creates, edits and deletes data (admin token).
#
# `st run` flags (schemathesis 4.x spelling; several changed from 3.x):
#   BASE_URL/api/openapi.json   the schema, loaded from the server under test.
#   --url BASE_URL              send every request to BASE_URL whatever `servers` in the document
#                               says, so nothing but BASE_URL is contacted.
#   --header "Authorization: Bearer TOKEN"
#                               authenticate every request (ignored_auth strips it to probe).
#   --checks LIST               every 4.x check, listed explicitly, except two:
#                               - object_level_authorization needs several identities (auth
#                                 "peers" in a config file) and is a no-op with one token; with an
#                                 admin token, reading other users' objects is allowed by design
#                                 (tests/auth.rs and tests/scopes.rs cover authorization).
#                               - negative_data_rejection demands that everything outside the
#                                 schema be refused. The schema describes canonical input, and
#                                 Kino also accepts documented non-canonical forms on purpose
#                                 (tags with `#`, capitals or inner spaces are normalised, names
#                                 and titles trimmed, out-of-range `per_page` clamped), which
#                                 JSON Schema cannot express. The opposite promise is kept:
#                                 positive_data_acceptance checks that everything the schema
#                                 allows is accepted.
#   --exclude-operation-id video_events (and the tus_* operations)
#                               GET /api/videos/{id}/live is a WebSocket handshake (RFC 6455),
#                               not a request/response operation schemathesis can exercise;
#                               tests/engagement.rs and tests/hostile.rs cover it. The tus
#                               operations (/api/uploads) are a protocol of headers
#                               (Upload-Metadata's base64 pairs, offsets that must equal the
#                               server's) that a document cannot describe well enough to
#                               generate valid requests; tests/tus.rs drives them as a tus
#                               client does. POST /api/qoe/beacons (send_beacons) takes player
#                               events whose fields depend on their `type` and that must name an
#                               existing video, one per view; tests/qoe.rs and the unit tests of
#                               src/qoe/beacon.rs check its validation case by case. POST
#                               /api/videos/{id}/captions (add_caption) takes a caption file whose
#                               validity (WebVTT or SRT timing lines) no schema can express;
#                               tests/captions.rs covers it.
#   --phases examples,coverage,fuzzing,stateful
#                               all four phases; `stateful` follows the document's OpenAPI links
#                               (create -> read/update/delete), which use_after_free and
#                               ensure_resource_availability need.
#   --max-examples 30           bounded number of generated cases per operation (fuzzing) and
#                               per stateful run, so the run stays short.
#   --seed 1 --workers 1        reproducible: fixed Hypothesis seed, one worker (with several
#                               workers the order of requests, and so server state, varies).
#   --generation-database none  no .hypothesis example database: runs do not depend on earlier ones.
#   --request-timeout 5         a hung request fails after 5 s instead of stalling the run.
#   --report junit --report-junit-path STATEDIR/junit.xml
#                               machine-readable results.
#   --config-file STATEDIR/schemathesis.toml
#                               written by this script, so that no stray schemathesis.toml from
#                               the working directory is used; it turns the
#                               `unresolvable_reference` and `base_url_mismatch` warnings into
#                               failures. (`missing_auth` stays a warning: the operations that
#                               need a signed-in session — password change, token creation,
#                               refresh — answer 401/403 to a bearer token by design.)
#   --no-color                  plain logs.
# Proxy variables are cleared for the run (requests would otherwise send 127.0.0.1 traffic to
# a proxy), and SCHEMATHESIS_HOOKS is unset (no extra code is loaded).
set -euo pipefail
# shellcheck source=lib/pyvenv.sh
source "$(dirname "$0")/lib/pyvenv.sh"

SCHEMATHESIS_SPEC='schemathesis==4.32.5'

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance
CHECKS+=,response_headers_conformance,response_schema_conformance
CHECKS+=,positive_data_acceptance,missing_required_header
CHECKS+=,unsupported_method,allow_header_conformance,ignored_auth
CHECKS+=,use_after_free,ensure_resource_availability

usage() {
  echo "usage: $0 BASE_URL TOKEN [STATEDIR]" >&2
  exit 2
}
die() {
  echo "api-contract: $*" >&2
  exit 1
}

[ $# -ge 2 ] && [ $# -le 3 ] || usage
base_url=${1%/}
token=$2
state_dir=${3:-${KINO_API_CONTRACT_DIR:-${TMPDIR:-/tmp}/kino-api-contract}}
[[ $base_url =~ ^https?://[^/]+$ ]] || die "BASE_URL must look like http://HOST:PORT, got '$1'"
[ -n "$token" ] || die "TOKEN is empty"
schema_url="$base_url/api/openapi.json"


# Fails with a clear message unless the server serves its OpenAPI document.
check_schema_reachable() {
  python3 - "$schema_url" "$token" <<'PY' || exit 1
import json, sys, urllib.error, urllib.request
url, token = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(req, timeout=10) as r:
        doc = json.load(r)
except urllib.error.HTTPError as e:
    sys.exit(f"api-contract: GET {url} answered HTTP {e.code}; is this a Kino server with /api/openapi.json?")
except (urllib.error.URLError, OSError) as e:
    sys.exit(f"api-contract: cannot reach {url}: {getattr(e, 'reason', e)}; is the server running?")
except ValueError:
    sys.exit(f"api-contract: {url} did not return a JSON document")
if not isinstance(doc, dict) or "openapi" not in doc:
    sys.exit(f"api-contract: {url} is not an OpenAPI document (no 'openapi' field)")
PY
}

ensure_pyvenv schemathesis "$SCHEMATHESIS_SPEC" st
check_schema_reachable
mkdir -p "$state_dir"
state_dir=$(cd "$state_dir" && pwd)
config="$state_dir/schemathesis.toml"
cat >"$config" <<'TOML'
# Written by scripts/api-contract.sh; overwritten on every run.
[warnings]
fail-on = ["unresolvable_reference", "base_url_mismatch"]
TOML
rm -f "$state_dir/junit.xml"

echo "api-contract: $SCHEMATHESIS_SPEC against $schema_url (reports in $state_dir)" >&2
status=0
# Run from the state directory: schemathesis keeps a `.schemathesis/` cache of earlier failures
# in its working directory and replays them, so each run starts from its own.
cd "$state_dir"
env -u SCHEMATHESIS_HOOKS -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY \
  -u http_proxy -u https_proxy -u all_proxy NO_PROXY='*' no_proxy='*' \
  "$venv/bin/st" --config-file "$config" --no-color run "$schema_url" \
  --url "$base_url" \
  --header "Authorization: Bearer $token" \
  --checks "$CHECKS" \
  --exclude-operation-id video_events \
  --exclude-operation-id tus_options --exclude-operation-id tus_create \
  --exclude-operation-id tus_offset --exclude-operation-id tus_append \
  --exclude-operation-id tus_terminate \
  --exclude-operation-id send_beacons \
  --exclude-operation-id add_caption \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples 30 \
  --seed 1 \
  --workers 1 \
  --generation-database none \
  --request-timeout 5 \
  --report junit \
  --report-junit-path "$state_dir/junit.xml" ||
  status=$?
if [ "$status" -ne 0 ]; then
  echo "api-contract: FAILED (st exit $status; JUnit report: $state_dir/junit.xml)" >&2
  exit "$status"
fi
echo "api-contract: passed (JUnit report: $state_dir/junit.xml)" >&2
