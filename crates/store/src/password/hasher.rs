//! [`PasswordHasher`]: the async API, off the executor with bounded concurrency.

use std::sync::Arc;

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::{PasswordConfig, PasswordError, PasswordHash, Verification};

/// Hashes and verifies passwords on tokio's blocking thread pool, at most
/// [`max_concurrency`](Self::max_concurrency) at a time.
///
/// Password hashing is deliberately slow (tens of milliseconds and 19 MiB per argon2id
/// run), so it must not run on the async executor's threads, and a burst of logins must
/// not start more hashes than there are cores (each one holds its memory until done).
/// Calls beyond the limit wait for a permit. A permit is held by the blocking task
/// itself, so a caller that gives up (a dropped future) does not free it before the
/// work it started ends.
///
/// Cheap to clone: clones share the configuration and the permits.
///
/// ```
/// use portcullis_store::password::{Argon2Params, PasswordConfig, PasswordHasher};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), portcullis_store::password::PasswordError> {
/// let hasher = PasswordHasher::new(PasswordConfig::new(Argon2Params::new(256, 1, 1)?));
/// let hash = hasher.hash("correct horse battery staple").await?;
/// let v = hasher.verify("correct horse battery staple", hash.as_str()).await?;
/// assert!(v.is_match() && !v.needs_rehash());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    config: Arc<PasswordConfig>,
    pub(super) permits: Arc<Semaphore>,
    max_concurrency: usize,
    #[cfg(test)]
    pub(super) probe: Arc<probe::Probe>,
}

impl PasswordHasher {
    /// A hasher allowing as many concurrent hashes as the machine has CPUs.
    pub fn new(config: PasswordConfig) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::with_max_concurrency(config, cpus)
    }

    /// A hasher allowing at most `max_concurrency` concurrent hashes (at least 1).
    pub fn with_max_concurrency(config: PasswordConfig, max_concurrency: usize) -> Self {
        let max_concurrency = max_concurrency.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            config: Arc::new(config),
            permits: Arc::new(Semaphore::new(max_concurrency)),
            max_concurrency,
            #[cfg(test)]
            probe: Arc::default(),
        }
    }

    /// The configuration (for the synchronous API, e.g. [`PasswordConfig::needs_rehash`]).
    pub fn config(&self) -> &PasswordConfig {
        &self.config
    }

    /// The most hashes that run at the same time.
    pub const fn max_concurrency(&self) -> usize {
        self.max_concurrency
    }

    /// Hashes `password` (see [`PasswordConfig::hash`]).
    ///
    /// # Errors
    ///
    /// As [`PasswordConfig::hash`], or [`PasswordError::Task`] if the blocking task
    /// panicked or the runtime is shutting down.
    pub async fn hash(&self, password: &str) -> Result<PasswordHash, PasswordError> {
        let password = Zeroizing::new(password.to_owned());
        self.run(move |config| config.hash(&password)).await?
    }

    /// Verifies `password` against `stored` (see [`PasswordConfig::verify`]).
    ///
    /// # Errors
    ///
    /// As [`PasswordConfig::verify`], or [`PasswordError::Task`].
    pub async fn verify(
        &self,
        password: &str,
        stored: &str,
    ) -> Result<Verification, PasswordError> {
        let password = Zeroizing::new(password.to_owned());
        let stored = stored.to_owned();
        self.run(move |config| config.verify(&password, &stored))
            .await?
    }

    /// Does the work of a verification and answers [`Verification::Mismatch`] (see
    /// [`PasswordConfig::dummy_verify`]). Use it for unknown accounts.
    pub async fn dummy_verify(&self, password: &str) -> Verification {
        let password = Zeroizing::new(password.to_owned());
        self.run(move |config| config.dummy_verify(&password))
            .await
            .unwrap_or(Verification::Mismatch)
    }

    /// Whether `stored` should be replaced (see [`PasswordConfig::needs_rehash`]);
    /// cheap, runs inline.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        self.config.needs_rehash(stored)
    }

    /// Runs `f` on the blocking pool while holding a permit.
    async fn run<T, F>(&self, f: F) -> Result<T, PasswordError>
    where
        F: FnOnce(&PasswordConfig) -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| PasswordError::Task {
                reason: e.to_string(),
            })?;
        let config = Arc::clone(&self.config);
        #[cfg(test)]
        let probe = Arc::clone(&self.probe);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            #[cfg(test)]
            let _guard = probe.enter();
            f(&config)
        })
        .await
        .map_err(|e| PasswordError::Task {
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
pub(super) mod probe {
    //! Counts blocking tasks in flight, to test the concurrency bound.

    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Default)]
    pub(crate) struct Probe {
        now: AtomicUsize,
        pub(crate) peak: AtomicUsize,
    }

    pub(crate) struct Guard<'a>(&'a Probe);

    impl Probe {
        pub(crate) fn enter(&self) -> Guard<'_> {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(n, Ordering::SeqCst);
            Guard(self)
        }
    }

    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.0.now.fetch_sub(1, Ordering::SeqCst);
        }
    }
}
