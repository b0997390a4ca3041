# shellcheck shell=bash
# Sourced by .ci/run. Installs real Pyramid in a venv (idempotent) for the auth-ticket
# interop tests of portcullis-web (crates/web/tests/it/ticket_pyramid.rs) and exports
# PORTCULLIS_TEST_PYRAMID_PYTHON. Versions are pinned: the tests compare Set-Cookie
# headers byte for byte with what this Pyramid/WebOb pair writes.
# shellcheck source=.ci/venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/../venv.sh"
portcullis_pyramid_setup() {
  portcullis_venv pyramid "pyramid==2.1 webob==1.8.11" || return 1
  local venv="$PORTCULLIS_VENV"
  "$venv/bin/python" -c 'import pyramid.authentication, webob' || return 1
  export PORTCULLIS_TEST_PYRAMID_PYTHON="$venv/bin/python"
}
portcullis_pyramid_setup
