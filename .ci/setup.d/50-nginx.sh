# shellcheck shell=bash
# Sourced by .ci/run. Installs Debian's nginx (and caddy, below) when missing, idempotently, for the
# forward-auth integration test (crates/cli/tests/it/nginx.rs: nginx `auth_request` in
# front of a backend, asking `portcullis serve --policy` at /auth/verify), checks that it
# has `http_auth_request_module`, and exports PORTCULLIS_TEST_NGINX (the binary).
# The package's own service is never started (policy-rc.d refuses service starts while
# installing); the test runs its own nginx with its own prefix, config, pid file and
# ephemeral loopback ports, in the foreground. When PORTCULLIS_TEST_NGINX is unset the test
# prints `skipped: ...` and passes.

# Installs Debian package $1 without starting its service: while installing, a temporary
# policy-rc.d (unless one exists) refuses service starts, so the packaged nginx or caddy
# never takes port 80. Tries the package lists as they are, then once more after
# `apt-get update`. The policy file it made is removed whatever happens.
portcullis_install_quietly() {
  local made_policy=""
  if ! [ -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local status=0
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
    status=$?
  fi
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  return "$status"
}
portcullis_nginx_setup() {
  if ! [ -x /usr/sbin/nginx ]; then
    echo "installing nginx"
    portcullis_install_quietly nginx || return 1
  fi
  if ! /usr/sbin/nginx -V 2>&1 | grep -q -- '--with-http_auth_request_module'; then
    echo "nginx lacks http_auth_request_module: the forward-auth nginx test will skip"
    return 1
  fi
  /usr/sbin/nginx -v 2>&1
  export PORTCULLIS_TEST_NGINX=/usr/sbin/nginx
}
# Caddy's forward_auth, the other proxy the forward-auth tests drive (same file: one setup
# for "reverse proxies in front of portcullis serve"); exports PORTCULLIS_TEST_CADDY.
portcullis_caddy_setup() {
  if ! [ -x /usr/bin/caddy ]; then
    echo "installing caddy"
    portcullis_install_quietly caddy || return 1
  fi
  /usr/bin/caddy version || return 1
  export PORTCULLIS_TEST_CADDY=/usr/bin/caddy
}
# A machine without nginx or caddy still runs the rest of CI; the tests then say they skipped.
portcullis_nginx_setup || echo "warning: nginx is unavailable: the nginx forward-auth test will skip"
portcullis_caddy_setup || echo "warning: caddy is unavailable: the caddy forward-auth test will skip"
