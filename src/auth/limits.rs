//! Rate limits on sign-in and registration, per client IP and per account name, and on
//! comments per user (GCRA, from the `governor` crate). Past a limit the caller gets 429 with `Retry-After` (RFC 6585 §4).
//!
//! The client IP is the TCP peer address: a forwarded-for header is never trusted here (anyone
//! could send one). Behind a reverse proxy every client shares the proxy's address, so raise
//! `auth.attempts_per_minute_per_ip` there.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Anonymous views one address may have counted a minute (a household or office behind one
/// address still counts; a loop does not).
pub const ANONYMOUS_VIEWS_PER_MINUTE: u32 = 20;

/// Limiters for credential endpoints, comments and anonymous views, cheap to clone.
#[derive(Clone)]
pub struct AuthLimits {
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
    comments: Arc<DefaultKeyedRateLimiter<i64>>,
    anonymous_views: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for AuthLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthLimits")
    }
}

/// A refusal: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl AuthLimits {
    /// `per_ip` attempts a minute from one address, `per_account` a minute on one account
    /// name, `comments` comments a minute per user (each at least 1), each allowed as a burst.
    pub fn new(per_ip: u32, per_account: u32, comments: u32) -> AuthLimits {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"));
        AuthLimits {
            per_ip: Arc::new(RateLimiter::keyed(quota(per_ip))),
            per_account: Arc::new(RateLimiter::keyed(quota(per_account))),
            comments: Arc::new(RateLimiter::keyed(quota(comments))),
            anonymous_views: Arc::new(RateLimiter::keyed(quota(ANONYMOUS_VIEWS_PER_MINUTE))),
        }
    }

    /// Counts one view by an anonymous viewer from `ip`: without this a script dropping the
    /// viewer cookie could add a view per request. Errors: [`RetryAfter`] past
    /// [`ANONYMOUS_VIEWS_PER_MINUTE`].
    pub fn check_anonymous_view(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let clock = DefaultClock::default();
        self.anonymous_views
            .check_key(&ip)
            .map_err(|n| RetryAfter(n.wait_time_from(clock.now())))
    }

    /// Counts one comment by `user_id`. Errors: [`RetryAfter`] past the per-minute limit.
    pub fn check_comment(&self, user_id: i64) -> Result<(), RetryAfter> {
        let clock = DefaultClock::default();
        self.comments
            .check_key(&user_id)
            .map_err(|n| RetryAfter(n.wait_time_from(clock.now())))
    }

    /// Counts one attempt from `ip` (and on `account`, when given).
    ///
    /// Errors: [`RetryAfter`] when either limit is exhausted.
    pub fn check(&self, ip: IpAddr, account: Option<&str>) -> Result<(), RetryAfter> {
        let clock = DefaultClock::default();
        self.per_ip
            .check_key(&ip)
            .map_err(|n| RetryAfter(n.wait_time_from(clock.now())))?;
        if let Some(name) = account {
            self.per_account
                .check_key(&name.to_ascii_lowercase())
                .map_err(|n| RetryAfter(n.wait_time_from(clock.now())))?;
        }
        Ok(())
    }

    /// Forgets keys whose limit has fully recovered; run periodically so memory stays bounded.
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
        self.comments.retain_recent();
        self.anonymous_views.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_apply_per_ip_and_per_account() {
        let l = AuthLimits::new(3, 2, 1);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(l.check(a, Some("alice")).is_ok());
        assert!(l.check(a, Some("Alice")).is_ok());
        // Third try on the same account from another address: the account limit holds.
        let refused = l.check(b, Some("alice")).unwrap_err();
        assert!(refused.0 > Duration::ZERO && refused.0 <= Duration::from_secs(60));
        assert!(l.check(a, None).is_ok(), "a's third attempt is within its IP quota");
        assert!(l.check(a, None).is_err(), "a's fourth is not");
    }
}
