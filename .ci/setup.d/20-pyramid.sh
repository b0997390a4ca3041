# shellcheck shell=bash
# Sourced by .ci/run. Installs real Pyramid in a venv (idempotent) for the auth-ticket
# interop tests of portcullis-web (crates/web/tests/it/ticket_pyramid.rs) and exports
# PORTCULLIS_TEST_PYRAMID_PYTHON. Versions are pinned: the tests compare Set-Cookie
# headers byte for byte with what this Pyramid/WebOb pair writes.
portcullis_pyramid_setup() {
  local venv="${PORTCULLIS_CI_CACHE:-/tmp/portcullis-ci}/pyramid-venv"
  local want="pyramid==2.1 webob==1.8.11"
  local stamp="$venv/.portcullis-installed"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "pyramid venv ready: $venv"
  else
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      # Debian's python3 needs python3-venv for `-m venv`.
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    fi
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
    echo "$want" > "$stamp"
  fi
  "$venv/bin/python" -c 'import pyramid.authentication, webob' || return 1
  export PORTCULLIS_TEST_PYRAMID_PYTHON="$venv/bin/python"
}
portcullis_pyramid_setup
