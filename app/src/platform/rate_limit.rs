//! A small in-memory limiter against password guessing and sign-up floods. One appliance runs
//! one process, so memory is the right place; a restart forgets, which only helps a guesser
//! once per restart.
//!
//! Time comes from the caller (the application's clock), so tests move it instead of sleeping.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// How many attempts one key may make within a window.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Prefix of the keys, so that two policies never share a counter.
    pub name: &'static str,
    pub max: usize,
    pub window: Duration,
}

/// Every policy the service applies, in one place.
pub mod policies {
    use super::{Duration, Policy};

    pub const SIGNUP_PER_IP: Policy = Policy {
        name: "signup",
        max: 20,
        window: Duration::hours(1),
    };
    pub const LOGIN_PER_IP: Policy = Policy {
        name: "login-ip",
        max: 50,
        window: Duration::minutes(15),
    };
    pub const LOGIN_PER_EMAIL: Policy = Policy {
        name: "login",
        max: 10,
        window: Duration::minutes(15),
    };
    pub const INVITE_PER_ACCOUNT: Policy = Policy {
        name: "invite",
        max: 10,
        window: Duration::hours(1),
    };
}

/// When each key (a client address, an e-mail) made its recent attempts.
type Attempts = HashMap<String, Vec<DateTime<Utc>>>;

/// Attempts by key, one map per policy: each map is pruned with its own window.
#[derive(Default)]
pub struct RateLimiter {
    hits: Mutex<HashMap<&'static str, Attempts>>,
}

/// Above this many keys in one policy, stale keys are forgotten: bounded memory whatever an
/// attacker sends.
const MAX_KEYS: usize = 100_000;

impl RateLimiter {
    /// Records an attempt by `who` under `policy`; false when the policy's attempts were
    /// already made within its window.
    pub fn allow(&self, policy: Policy, who: &str, now: DateTime<Utc>) -> bool {
        let window = policy.window;
        let mut hits = self.hits.lock().expect("limiter lock");
        let keys = hits.entry(policy.name).or_default();
        if keys.len() > MAX_KEYS {
            keys.retain(|_, times| times.last().is_some_and(|t| now - *t < window));
        }
        let times = keys.entry(who.to_owned()).or_default();
        times.retain(|t| now - *t < window);
        if times.len() >= policy.max {
            return false;
        }
        times.push(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &'static str, max: usize, window: Duration) -> Policy {
        Policy { name, max, window }
    }

    #[test]
    fn the_limit_applies_per_key_within_the_window() {
        let limiter = RateLimiter::default();
        let now: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let minute = policy("a", 3, Duration::seconds(60));
        for _ in 0..3 {
            assert!(limiter.allow(minute, "x", now));
        }
        assert!(!limiter.allow(minute, "x", now));
        assert!(limiter.allow(minute, "y", now));
        let short = policy("c", 1, Duration::milliseconds(1));
        assert!(limiter.allow(short, "x", now));
        assert!(limiter.allow(short, "x", now + Duration::milliseconds(5)));
    }

    #[test]
    fn two_policies_never_share_a_counter() {
        let limiter = RateLimiter::default();
        let now: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        assert!(limiter.allow(policy("p", 1, Duration::hours(1)), "same", now));
        assert!(limiter.allow(policy("q", 1, Duration::hours(1)), "same", now));
        assert!(!limiter.allow(policy("p", 1, Duration::hours(1)), "same", now));
    }
}
