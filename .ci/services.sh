# Sourced by .ci/run: makes sure PostgreSQL and Redis run on 127.0.0.1 and exports the
# URLs the service-backed tests read. Every run gets its own PostgreSQL database.
pg_ok() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_ok; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
ci_db="portcullis_ci_$(date +%s)_$$"
psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE $ci_db" >/dev/null
# The run's database goes when the run ends, passed or failed (tests that create their
# own databases drop them; this one would otherwise stay behind on the machine).
trap 'psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $ci_db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
export PORTCULLIS_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/$ci_db"
export PORTCULLIS_TEST_REDIS_URL="redis://127.0.0.1:6379/"
echo "PostgreSQL: $PORTCULLIS_TEST_POSTGRES_URL"
echo "Redis: $PORTCULLIS_TEST_REDIS_URL"
