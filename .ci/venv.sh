# shellcheck shell=bash
# Sourced by the .ci/setup.d scripts that need a Python venv.
#
# portcullis_venv NAME "PKG==VERSION ..." makes (or reuses) the venv
# ${PORTCULLIS_CI_CACHE:-/tmp/portcullis-ci}/NAME-venv holding exactly those pinned
# packages, and sets PORTCULLIS_VENV to its path. Idempotent: a venv whose stamp file
# names the same packages is reused as it is.
portcullis_venv() {
  local venv="${PORTCULLIS_CI_CACHE:-/tmp/portcullis-ci}/$1-venv"
  local want="$2"
  local stamp="$venv/.portcullis-installed"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "$1 venv ready: $venv"
  else
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      # Debian's python3 needs python3-venv for `-m venv`.
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv" || return 1
    fi
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want || return 1
    echo "$want" > "$stamp"
  fi
  PORTCULLIS_VENV="$venv"
}
