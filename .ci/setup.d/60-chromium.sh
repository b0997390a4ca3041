# shellcheck shell=bash
# Sourced by .ci/run. Installs Debian's Chromium and ChromeDriver (packages chromium and
# chromium-driver) when missing, idempotently, for the real-browser tests of the portal
# (crates/cli/tests/it/browser.rs), and exports PORTCULLIS_TEST_CHROMEDRIVER (the driver)
# and PORTCULLIS_TEST_CHROMIUM (the browser). No browser is ever downloaded by a test tool.
# When PORTCULLIS_TEST_CHROMEDRIVER is unset those tests print `skipped: ...` and pass.
portcullis_chromium_setup() {
  if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
    echo "installing chromium and chromium-driver"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; then
      apt-get update -qq || return 1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null || return 1
    fi
  fi
  /usr/bin/chromedriver --version || return 1
  /usr/bin/chromium --version 2>/dev/null || return 1
  export PORTCULLIS_TEST_CHROMEDRIVER=/usr/bin/chromedriver
  export PORTCULLIS_TEST_CHROMIUM=/usr/bin/chromium
}
portcullis_chromium_setup
