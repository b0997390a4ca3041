//! [`PortalState`]: what the handlers share.

use std::sync::Arc;
use std::time::Duration;

use portcullis_store::password::PasswordPolicy;
use portcullis_store::{Store, StoreOptions};
use portcullis_web::session::{SessionConfig, SessionManager, SqlSessionStore};

use crate::config::PortalConfig;
use crate::error::PortalError;
use crate::mail::{MailLimit, MailTemplates};
use crate::mailer::Mailer;
use crate::pages::PageTemplates;
use crate::throttle::Throttle;

/// The portal's shared state: store, sessions, mailer, configuration, throttle. Cheap to
/// clone.
#[derive(Clone)]
pub struct PortalState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) sessions: SessionManager,
    pub(crate) mailer: Arc<dyn Mailer>,
    pub(crate) config: PortalConfig,
    pub(crate) throttle: Throttle,
    pub(crate) policy: PasswordPolicy,
    pub(crate) mail_templates: MailTemplates,
    pub(crate) mail_limit: MailLimit,
    pub(crate) pages: PageTemplates,
}

impl std::fmt::Debug for PortalState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalState")
            .field("config", &self.inner.config)
            .field("sessions", &self.inner.sessions)
            .finish_non_exhaustive()
    }
}

impl PortalState {
    /// State over `store` (its clock drives sessions, tokens and the throttle) with
    /// server-side sessions in the store's SQL database.
    ///
    /// `policy` must be the store's password policy (it is checked before a one-time
    /// token is spent, so a rejected password does not burn a reset link); pass
    /// `PasswordPolicy::new()` for the store's default.
    pub fn new(
        store: Store,
        mailer: Arc<dyn Mailer>,
        config: PortalConfig,
        policy: PasswordPolicy,
    ) -> Result<PortalState, PortalError> {
        config.validate()?;
        let mut session_config = SessionConfig::new();
        if config.insecure_cookies {
            session_config = session_config.dangerous_insecure_cookies();
        }
        let sessions = SessionManager::new(SqlSessionStore::new(store.clone()), session_config)
            .map_err(|e| PortalError::Web(e.into()))?
            .with_clock(store.clock().clone());
        let mail_templates = match &config.templates_dir {
            Some(dir) => MailTemplates::with_dir(config.site_name.clone(), dir.join("mail")),
            None => MailTemplates::builtin(config.site_name.clone()),
        };
        let pages = PageTemplates::new(config.templates_dir.as_ref().map(|d| d.join("pages")));
        Ok(PortalState {
            inner: Arc::new(Inner {
                mail_templates,
                mail_limit: MailLimit::new(config.mail_limit.clone()),
                pages,
                throttle: Throttle::new(config.throttle.clone()),
                store,
                sessions,
                mailer,
                config,
                policy,
            }),
        })
    }

    /// The identity store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The session manager (to identify the portal's users in the application).
    pub fn sessions(&self) -> &SessionManager {
        &self.inner.sessions
    }

    /// The configuration.
    pub fn config(&self) -> &PortalConfig {
        &self.inner.config
    }

    pub(crate) fn now(&self) -> i64 {
        self.inner.store.clock().now().unix_timestamp()
    }

    pub(crate) fn reset_ttl(&self) -> Duration {
        Duration::from_secs(self.inner.config.reset_ttl_secs)
    }

    pub(crate) fn verify_ttl(&self) -> Duration {
        Duration::from_secs(self.inner.config.verify_ttl_secs)
    }
}

/// Opens the store named by `config.database` with default options (migrations applied).
pub async fn open_store(config: &PortalConfig) -> Result<Store, PortalError> {
    Ok(Store::open_with(&config.database, StoreOptions::default()).await?)
}
