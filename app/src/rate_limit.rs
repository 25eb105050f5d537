//! A small in-memory limiter against password guessing and sign-up floods. One appliance runs
//! one process, so memory is the right place; a restart forgets, which only helps a guesser
//! once per restart.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct RateLimiter {
    hits: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimiter {
    /// Records an attempt under `key`; false when `max` attempts were already made within
    /// `window`.
    pub fn allow(&self, key: &str, max: usize, window: Duration) -> bool {
        let now = Instant::now();
        let mut hits = self.hits.lock().expect("limiter lock");
        if hits.len() > 100_000 {
            // Bounded memory whatever an attacker sends: forget stale keys.
            hits.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
        }
        let times = hits.entry(key.to_owned()).or_default();
        times.retain(|t| now.duration_since(*t) < window);
        if times.len() >= max {
            return false;
        }
        times.push(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_applies_per_key_within_the_window() {
        let limiter = RateLimiter::default();
        let window = Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.allow("a", 3, window));
        }
        assert!(!limiter.allow("a", 3, window));
        assert!(limiter.allow("b", 3, window));
        assert!(limiter.allow("c", 1, Duration::from_millis(1)));
        std::thread::sleep(Duration::from_millis(5));
        assert!(limiter.allow("c", 1, Duration::from_millis(1)));
    }
}
