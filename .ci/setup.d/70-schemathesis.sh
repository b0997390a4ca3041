# shellcheck shell=bash
# Sourced by .ci/run. Installs schemathesis (property-based API testing from the OpenAPI
# document) in a venv (idempotent) for crates/cli/tests/it/schemathesis.rs, which runs it
# against a real `portcullis serve`, and exports PORTCULLIS_TEST_SCHEMATHESIS.
# shellcheck source=.ci/venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/../venv.sh"
portcullis_schemathesis_setup() {
  portcullis_venv schemathesis "schemathesis==4.32.5" || return 1
  local venv="$PORTCULLIS_VENV"
  "$venv/bin/st" --version || return 1
  export PORTCULLIS_TEST_SCHEMATHESIS="$venv/bin/st"
}
portcullis_schemathesis_setup
