# shellcheck shell=bash
# Sourced by .ci/run. Installs the real password-hashing libraries in a venv (idempotent)
# for the interop tests of portcullis-store's password module
# (crates/store/src/password/tests.rs, `interop_*`, driving
# crates/store/tests/vectors/interop.py) and exports PORTCULLIS_TEST_PASSWORD_PYTHON.
# Versions are pinned to the ones that produced the hard-coded vectors.
portcullis_password_hashers_setup() {
  local venv="${PORTCULLIS_CI_CACHE:-/tmp/portcullis-ci}/password-hashers-venv"
  local want="pydal==20260520.0 django==5.2.19 bcrypt==5.0.0 argon2-cffi==25.1.0"
  local stamp="$venv/.portcullis-installed"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "password-hashers venv ready: $venv"
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
  "$venv/bin/python" -c 'import pydal, django, bcrypt, argon2' || return 1
  export PORTCULLIS_TEST_PASSWORD_PYTHON="$venv/bin/python"
}
portcullis_password_hashers_setup
