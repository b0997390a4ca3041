# shellcheck shell=bash
# Sourced by .ci/run. Installs the real password-hashing libraries in a venv (idempotent)
# for the interop tests of portcullis-store's password module
# (crates/store/src/password/tests.rs, `interop_*`, driving
# crates/store/tests/vectors/interop.py) and exports PORTCULLIS_TEST_PASSWORD_PYTHON.
# Versions are pinned to the ones that produced the hard-coded vectors.
# shellcheck source=.ci/venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/../venv.sh"
portcullis_password_hashers_setup() {
  portcullis_venv password-hashers "pydal==20260520.0 django==5.2.19 bcrypt==5.0.0 argon2-cffi==25.1.0" || return 1
  local venv="$PORTCULLIS_VENV"
  "$venv/bin/python" -c 'import pydal, django, bcrypt, argon2' || return 1
  export PORTCULLIS_TEST_PASSWORD_PYTHON="$venv/bin/python"
}
portcullis_password_hashers_setup
