# shellcheck shell=bash
# Sourced by .ci/run. Installs schemathesis (property-based API testing from the OpenAPI
# document) in a venv (idempotent) for crates/cli/tests/it/schemathesis.rs, which runs it
# against a real `portcullis serve`, and exports PORTCULLIS_TEST_SCHEMATHESIS.
portcullis_schemathesis_setup() {
  local venv="${PORTCULLIS_CI_CACHE:-/tmp/portcullis-ci}/schemathesis-venv"
  local want="schemathesis==4.32.5"
  local stamp="$venv/.portcullis-installed"
  if [ -x "$venv/bin/st" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "schemathesis venv ready: $venv"
  else
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$want"
    echo "$want" > "$stamp"
  fi
  "$venv/bin/st" --version || return 1
  export PORTCULLIS_TEST_SCHEMATHESIS="$venv/bin/st"
}
portcullis_schemathesis_setup
