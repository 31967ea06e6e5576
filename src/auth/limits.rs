//! Rate limits on sign-in and registration, on comments per user and anonymous views (GCRA,
//! from the `governor` crate), and sign-in failure limits. Past a limit the caller gets 429
//! with `Retry-After` (RFC 6585 §4).
//!
//! Sign-in failures are counted per (account, client address), as the OWASP Authentication
//! Cheat Sheet advises against plain account lockout: wrong passwords from one address slow
//! down that address on that account only, so an attacker cannot lock the real user out from
//! elsewhere. After [`SigninPolicy::free_failures`] failures each further one blocks the pair for
//! 1 s, 2 s, 4 s, … up to [`SigninPolicy::max_backoff`]; a success clears the pair, an hour
//! without failures forgets it. Over all addresses an account takes at most
//! [`SigninPolicy::account_failures_per_hour`] failures an hour (a ceiling on distributed
//! guessing, high enough that reaching it takes many addresses each in backoff).
//!
//! The client address is the TCP peer, or the `X-Forwarded-For` hop named by
//! `http.trusted_proxies` (see `http::client_ip`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Anonymous views one address may have counted a minute (a household or office behind one
/// address still counts; a loop does not).
pub const ANONYMOUS_VIEWS_PER_MINUTE: u32 = 20;

/// The first backoff after the free failures; each further failure doubles it.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Failures of a pair are forgotten after this long without one; the account ceiling's window.
const HOUR: Duration = Duration::from_secs(3600);

/// Sign-in failure limits (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigninPolicy {
    /// Failures one address may make on one account before backoff starts (`auth.signin_free_failures`).
    pub free_failures: u32,
    /// Longest backoff of one (account, address) pair (`auth.signin_max_backoff_secs`).
    pub max_backoff: Duration,
    /// Failures an account takes an hour from all addresses together (`auth.account_failures_per_hour`).
    pub account_failures_per_hour: u32,
}

#[derive(Debug, Clone, Copy)]
struct PairState {
    failures: u32,
    last: Instant,
    blocked_until: Instant,
}

#[derive(Debug, Clone, Copy)]
struct AccountWindow {
    start: Instant,
    failures: u32,
}

#[derive(Debug, Default)]
struct Failures {
    pairs: HashMap<(String, IpAddr), PairState>,
    accounts: HashMap<String, AccountWindow>,
}

/// Limiters for credential endpoints, comments and anonymous views, cheap to clone.
#[derive(Clone)]
pub struct AuthLimits {
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    signin: SigninPolicy,
    failures: Arc<Mutex<Failures>>,
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
    /// `per_ip` attempts a minute from one address, `comments` comments a minute per user
    /// (each at least 1, each allowed as a burst), and sign-in failures limited by `signin`.
    pub fn new(per_ip: u32, signin: SigninPolicy, comments: u32) -> AuthLimits {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("at least 1"));
        AuthLimits {
            per_ip: Arc::new(RateLimiter::keyed(quota(per_ip))),
            signin,
            failures: Arc::new(Mutex::new(Failures::default())),
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

    /// Counts one attempt from `ip` and, with `account` (a lowercase username), refuses it
    /// while that (account, address) pair is in backoff or the account is over its hourly
    /// ceiling.
    ///
    /// Errors: [`RetryAfter`] when a limit holds.
    pub fn check(&self, ip: IpAddr, account: Option<&str>) -> Result<(), RetryAfter> {
        let clock = DefaultClock::default();
        self.per_ip
            .check_key(&ip)
            .map_err(|n| RetryAfter(n.wait_time_from(clock.now())))?;
        match account {
            Some(name) => self.check_failures_at(ip, name, Instant::now()),
            None => Ok(()),
        }
    }

    fn check_failures_at(&self, ip: IpAddr, account: &str, now: Instant) -> Result<(), RetryAfter> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let account = account.to_ascii_lowercase();
        if let Some(pair) = failures.pairs.get(&(account.clone(), ip))
            && pair.blocked_until > now
        {
            return Err(RetryAfter(pair.blocked_until - now));
        }
        if let Some(w) = failures.accounts.get(&account)
            && w.failures >= self.signin.account_failures_per_hour
            && w.start + HOUR > now
        {
            return Err(RetryAfter(w.start + HOUR - now));
        }
        Ok(())
    }

    /// Records a wrong password for `account` from `ip`: past the free failures the pair backs
    /// off exponentially, and the account's hourly count grows.
    pub fn failed(&self, ip: IpAddr, account: &str) {
        self.failed_at(ip, account, Instant::now());
    }

    fn failed_at(&self, ip: IpAddr, account: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let account = account.to_ascii_lowercase();
        let pair = failures.pairs.entry((account.clone(), ip)).or_insert(PairState {
            failures: 0,
            last: now,
            blocked_until: now,
        });
        if now.duration_since(pair.last) > HOUR {
            pair.failures = 0;
        }
        pair.failures = pair.failures.saturating_add(1);
        pair.last = now;
        if let Some(over) = pair.failures.checked_sub(self.signin.free_failures + 1) {
            let backoff = FIRST_BACKOFF
                .saturating_mul(1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX))
                .min(self.signin.max_backoff);
            pair.blocked_until = now + backoff;
        }
        let window = failures.accounts.entry(account).or_insert(AccountWindow {
            start: now,
            failures: 0,
        });
        if now.duration_since(window.start) >= HOUR {
            *window = AccountWindow {
                start: now,
                failures: 0,
            };
        }
        window.failures = window.failures.saturating_add(1);
    }

    /// Records a successful sign-in: the (account, address) pair starts afresh.
    pub fn succeeded(&self, ip: IpAddr, account: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.pairs.remove(&(account.to_ascii_lowercase(), ip));
    }

    /// Forgets keys whose limit has fully recovered; run periodically so memory stays bounded.
    pub fn prune(&self) {
        self.per_ip.retain_recent();
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures
            .pairs
            .retain(|_, p| p.blocked_until > now || now.duration_since(p.last) <= HOUR);
        failures.accounts.retain(|_, w| now.duration_since(w.start) < HOUR);
        drop(failures);
        self.comments.retain_recent();
        self.anonymous_views.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: SigninPolicy = SigninPolicy {
        free_failures: 2,
        max_backoff: Duration::from_secs(8),
        account_failures_per_hour: 10,
    };

    #[test]
    fn the_per_ip_limit_counts_every_attempt() {
        let l = AuthLimits::new(2, POLICY, 1);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(l.check(a, Some("alice")).is_ok());
        assert!(l.check(a, None).is_ok());
        assert!(l.check(a, Some("bob")).is_err(), "a's third attempt is over its quota");
    }

    #[test]
    fn failures_back_off_one_address_on_one_account_only() {
        let policy = SigninPolicy {
            account_failures_per_hour: 100,
            ..POLICY
        };
        let l = AuthLimits::new(1000, policy, 1);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..2 {
            l.failed_at(a, "alice", t0);
        }
        assert!(l.check_failures_at(a, "alice", t0).is_ok(), "two free failures");
        let wait = |at: Instant| l.check_failures_at(a, "Alice", at).unwrap_err().0;
        l.failed_at(a, "alice", t0);
        assert_eq!(wait(t0), Duration::from_secs(1));
        l.failed_at(a, "alice", t0 + Duration::from_secs(1));
        assert_eq!(wait(t0 + Duration::from_secs(1)), Duration::from_secs(2));
        l.failed_at(a, "alice", t0 + Duration::from_secs(3));
        assert_eq!(wait(t0 + Duration::from_secs(3)), Duration::from_secs(4));
        for i in 0..5 {
            l.failed_at(a, "alice", t0 + Duration::from_secs(10 + i));
        }
        assert_eq!(wait(t0 + Duration::from_secs(14)), Duration::from_secs(8), "capped");
        // Another address, and another account from the same address, are untouched.
        assert!(l.check_failures_at(b, "alice", t0 + Duration::from_secs(14)).is_ok());
        assert!(l.check_failures_at(a, "bob", t0 + Duration::from_secs(14)).is_ok());
        // A success starts the pair afresh.
        l.succeeded(a, "alice");
        assert!(l.check_failures_at(a, "alice", t0 + Duration::from_secs(14)).is_ok());
    }

    #[test]
    fn the_account_ceiling_holds_across_addresses_for_an_hour() {
        let l = AuthLimits::new(1000, POLICY, 1);
        let t0 = Instant::now();
        for i in 0..10u8 {
            l.failed_at(IpAddr::from([198, 51, 100, i]), "carol", t0);
        }
        let fresh: IpAddr = "203.0.113.9".parse().unwrap();
        let refused = l.check_failures_at(fresh, "carol", t0).unwrap_err();
        assert_eq!(refused.0, HOUR);
        assert!(l.check_failures_at(fresh, "carol", t0 + HOUR).is_ok());
        assert!(l.check_failures_at(fresh, "dave", t0).is_ok());
    }
}
