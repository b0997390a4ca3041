# shellcheck shell=bash
# Sourced by .ci/run. Installs a real SMTP server (aiosmtpd) plus `cryptography` (to make
# a throw-away self-signed certificate for the STARTTLS / implicit-TLS tests) in a venv,
# idempotently, for portcullis-portal's mail tests (crates/portal/tests/it/mail.rs, which
# drives crates/portal/tests/it/smtp_sink.py), and exports PORTCULLIS_TEST_SMTP_PYTHON.
# When the variable is unset those tests print `skipped: ...` and pass.
portcullis_smtp_setup() {
  local venv="${PORTCULLIS_CI_CACHE:-/tmp/portcullis-ci}/smtp-venv"
  local want="aiosmtpd==1.4.6 cryptography==50.0.2"
  local stamp="$venv/.portcullis-installed"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "smtp venv ready: $venv"
  else
    mkdir -p "$(dirname "$venv")"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      # Debian's python3 needs python3-venv for `-m venv`.
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    fi
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want || return 1
    echo "$want" > "$stamp"
  fi
  "$venv/bin/python" -c 'import aiosmtpd.controller, cryptography.x509' || return 1
  export PORTCULLIS_TEST_SMTP_PYTHON="$venv/bin/python"
}
portcullis_smtp_setup
