//! The Redis backend (cargo feature `redis`, on by default).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::SessionError;
use super::id::SessionHash;
use super::record::SessionRecord;
use super::store::{BoxFuture, SessionStore};

/// The default key prefix.
pub const DEFAULT_REDIS_PREFIX: &str = "portcullis:session:";

/// Sessions in Redis.
///
/// * `<prefix><sha-256 of id>` is a hash: field `r` holds the record as JSON, field
///   `s` the last use (so recording a use never rewrites the data), with a TTL of
///   `min(idle timeout, absolute expiry - now)`, so Redis itself drops idle and
///   expired sessions.
/// * `<prefix>user:<user id>` is a set of the user's session hashes, so that
///   [`SessionStore::delete_for_user`] and [`SessionStore::list_for_user`] need no scan.
///
/// Every write is one Lua script, so create/save/rotate/delete and the user index change
/// atomically, and a save or rotate of a session that was deleted meanwhile writes
/// nothing. The scripts touch keys they derive from the prefix, so this backend is for
/// a single Redis server (or a primary with replicas), not Redis Cluster.
#[derive(Clone)]
pub struct RedisSessionStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn redis_err(e: redis::RedisError) -> SessionError {
    SessionError::Redis(e.to_string())
}

const PRELUDE: &str = r"
local function owner(key)
  local v = redis.call('HGET', key, 'r')
  if not v then return nil end
  local ok, rec = pcall(cjson.decode, v)
  if ok and type(rec) == 'table' and type(rec['user_id']) == 'string' then
    return rec['user_id']
  end
  return nil
end
local function index_add(prefix, user, hash, ttl)
  if not user or user == '' then return end
  local idx = prefix .. 'user:' .. user
  redis.call('SADD', idx, hash)
  if redis.call('TTL', idx) < tonumber(ttl) then redis.call('EXPIRE', idx, ttl) end
end
local function put(key, value, seen, ttl)
  redis.call('DEL', key)
  redis.call('HSET', key, 'r', value, 's', seen)
  redis.call('EXPIRE', key, ttl)
end
";

// KEYS[1] session key; ARGV: prefix, value, ttl, hash, user ('' for none), seen
const CREATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
put(KEYS[1], ARGV[2], ARGV[6], ARGV[3])
index_add(ARGV[1], ARGV[5], ARGV[4], ARGV[3])
return 1
";

// KEYS[1] session key; ARGV: prefix, value, ttl, hash, user ('' for none), seen
const SAVE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ou = owner(KEYS[1])
if ou and ou ~= ARGV[5] then redis.call('SREM', ARGV[1] .. 'user:' .. ou, ARGV[4]) end
put(KEYS[1], ARGV[2], ARGV[6], ARGV[3])
index_add(ARGV[1], ARGV[5], ARGV[4], ARGV[3])
return 1
";

// KEYS[1] session key; ARGV: prefix, seen, ttl, hash. Data untouched.
const TOUCH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
index_add(ARGV[1], owner(KEYS[1]), ARGV[4], ARGV[3])
return 1
";

// KEYS[1] old key, KEYS[2] new key; ARGV: prefix, value, ttl, new hash, user, seen, old hash
const ROTATE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ou = owner(KEYS[1])
redis.call('DEL', KEYS[1])
if ou then redis.call('SREM', ARGV[1] .. 'user:' .. ou, ARGV[7]) end
put(KEYS[2], ARGV[2], ARGV[6], ARGV[3])
index_add(ARGV[1], ARGV[5], ARGV[4], ARGV[3])
return 1
";

// KEYS[1] session key; ARGV: prefix, hash
const DELETE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ou = owner(KEYS[1])
redis.call('DEL', KEYS[1])
if ou then redis.call('SREM', ARGV[1] .. 'user:' .. ou, ARGV[2]) end
return 1
";

// KEYS[1] user index; ARGV: prefix, user. Deletes only sessions still owned by user.
const DELETE_FOR_USER: &str = r"
local n = 0
for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[1] .. h
  if owner(k) == ARGV[2] then
    redis.call('DEL', k)
    n = n + 1
  end
end
redis.call('DEL', KEYS[1])
return n
";

impl RedisSessionStore {
    /// Connects to `url` (`redis://host:port/db`) with the default prefix
    /// [`DEFAULT_REDIS_PREFIX`]. The connection reconnects by itself.
    pub async fn connect(url: &str) -> Result<RedisSessionStore, SessionError> {
        let client = redis::Client::open(url).map_err(redis_err)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(redis_err)?;
        Ok(RedisSessionStore {
            conn,
            prefix: DEFAULT_REDIS_PREFIX.to_owned(),
        })
    }

    /// Uses another key prefix (e.g. one per application sharing a Redis database).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> RedisSessionStore {
        self.prefix = prefix.into();
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key holding a session (for tests and operations).
    pub fn key(&self, hash: &SessionHash) -> String {
        format!("{}{}", self.prefix, hash.as_str())
    }

    fn user_key(&self, user_id: &str) -> String {
        format!("{}user:{user_id}", self.prefix)
    }

    async fn eval(&self, body: &str, keys: &[&str], args: &[&str]) -> Result<i64, SessionError> {
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(format!("{PRELUDE}{body}")).arg(keys.len());
        for k in keys {
            cmd.arg(*k);
        }
        for a in args {
            cmd.arg(*a);
        }
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(redis_err)
    }

    async fn get(&self, key: &str) -> Result<Option<SessionRecord>, SessionError> {
        let mut conn = self.conn.clone();
        let (value, seen): (Option<String>, Option<i64>) = redis::cmd("HMGET")
            .arg(key)
            .arg("r")
            .arg("s")
            .query_async(&mut conn)
            .await
            .map_err(redis_err)?;
        let Some(value) = value else {
            return Ok(None);
        };
        let mut rec: SessionRecord =
            serde_json::from_str(&value).map_err(|e| SessionError::Corrupt(e.to_string()))?;
        if let Some(seen) = seen {
            rec.last_seen_at = rec.last_seen_at.max(seen);
        }
        Ok(Some(rec))
    }

    async fn write(
        &self,
        script: &str,
        keys: &[&str],
        hash: &SessionHash,
        record: &SessionRecord,
        ttl_secs: u64,
        extra: Option<&str>,
    ) -> Result<bool, SessionError> {
        let value =
            serde_json::to_string(record).map_err(|e| SessionError::Corrupt(e.to_string()))?;
        let ttl = ttl_secs.max(1).to_string();
        let user = record.user_id.as_deref().unwrap_or("");
        let seen = record.last_seen_at.to_string();
        let mut args = vec![
            self.prefix.as_str(),
            &value,
            &ttl,
            hash.as_str(),
            user,
            &seen,
        ];
        if let Some(e) = extra {
            args.push(e);
        }
        Ok(self.eval(script, keys, &args).await? == 1)
    }
}

impl SessionStore for RedisSessionStore {
    fn load<'a>(
        &'a self,
        hash: &'a SessionHash,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, SessionError>> {
        Box::pin(async move { self.get(&self.key(hash)).await })
    }

    fn create<'a>(
        &'a self,
        hash: &'a SessionHash,
        record: &'a SessionRecord,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<(), SessionError>> {
        Box::pin(async move {
            let key = self.key(hash);
            if self
                .write(CREATE, &[&key], hash, record, ttl_secs, None)
                .await?
            {
                Ok(())
            } else {
                Err(SessionError::Redis("session key already exists".into()))
            }
        })
    }

    fn save<'a>(
        &'a self,
        hash: &'a SessionHash,
        record: &'a SessionRecord,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move {
            let key = self.key(hash);
            self.write(SAVE, &[&key], hash, record, ttl_secs, None)
                .await
        })
    }

    fn touch<'a>(
        &'a self,
        hash: &'a SessionHash,
        last_seen_at: i64,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move {
            let key = self.key(hash);
            let (seen, ttl) = (last_seen_at.to_string(), ttl_secs.max(1).to_string());
            Ok(self
                .eval(TOUCH, &[&key], &[&self.prefix, &seen, &ttl, hash.as_str()])
                .await?
                == 1)
        })
    }

    fn rotate<'a>(
        &'a self,
        old: &'a SessionHash,
        new: &'a SessionHash,
        record: &'a SessionRecord,
        ttl_secs: u64,
    ) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move {
            let (old_key, new_key) = (self.key(old), self.key(new));
            self.write(
                ROTATE,
                &[&old_key, &new_key],
                new,
                record,
                ttl_secs,
                Some(old.as_str()),
            )
            .await
        })
    }

    fn delete<'a>(&'a self, hash: &'a SessionHash) -> BoxFuture<'a, Result<bool, SessionError>> {
        Box::pin(async move {
            let key = self.key(hash);
            Ok(self
                .eval(DELETE, &[&key], &[&self.prefix, hash.as_str()])
                .await?
                == 1)
        })
    }

    fn delete_for_user<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<u64, SessionError>> {
        Box::pin(async move {
            let idx = self.user_key(user_id);
            let n = self
                .eval(DELETE_FOR_USER, &[&idx], &[&self.prefix, user_id])
                .await?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn list_for_user<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(SessionHash, SessionRecord)>, SessionError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let members: Vec<String> = redis::cmd("SMEMBERS")
                .arg(self.user_key(user_id))
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            let mut out = Vec::with_capacity(members.len());
            for m in members {
                let Some(hash) = SessionHash::parse(&m) else {
                    continue;
                };
                if let Some(rec) = self.get(&self.key(&hash)).await?
                    && rec.user_id.as_deref() == Some(user_id)
                {
                    out.push((hash, rec));
                }
            }
            out.sort_by_key(|(_, r)| std::cmp::Reverse(r.last_seen_at));
            Ok(out)
        })
    }
}
