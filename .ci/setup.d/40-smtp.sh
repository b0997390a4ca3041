# shellcheck shell=bash
# Sourced by .ci/run. Installs a real SMTP server (aiosmtpd) plus `cryptography` (to make
# a throw-away self-signed certificate for the STARTTLS / implicit-TLS tests) in a venv,
# idempotently, for portcullis-portal's mail tests (crates/portal/tests/it/mail.rs, which
# drives crates/portal/tests/it/smtp_sink.py), and exports PORTCULLIS_TEST_SMTP_PYTHON.
# When the variable is unset those tests print `skipped: ...` and pass.
# shellcheck source=.ci/venv.sh
. "$(dirname "${BASH_SOURCE[0]}")/../venv.sh"
portcullis_smtp_setup() {
  portcullis_venv smtp "aiosmtpd==1.4.6 cryptography==50.0.2" || return 1
  local venv="$PORTCULLIS_VENV"
  "$venv/bin/python" -c 'import aiosmtpd.controller, cryptography.x509' || return 1
  export PORTCULLIS_TEST_SMTP_PYTHON="$venv/bin/python"
}
portcullis_smtp_setup
