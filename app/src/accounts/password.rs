//! Password hashing: argon2id with the crate's recommended parameters (19 MiB, 2 passes). Both
//! functions are CPU- and memory-heavy on purpose; async callers use [`hash_off_thread`] and
//! [`verify_off_thread`], which run them on the blocking pool a few at a time.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 accepts any password with default parameters")
        .to_string()
}

/// False for a wrong password and for a malformed stored hash alike.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// At most this many argon2 computations at once: one per core. More would not finish sooner,
/// and each holds 19 MiB, so 64 parents logging in together once took the process to gigabytes.
fn permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let _permit = permits()
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(work)
        .await
        .expect("argon2 does not panic on any input")
}

pub async fn hash_off_thread(password: String) -> String {
    off_thread(move || hash(&password)).await
}

pub async fn verify_off_thread(password: String, stored: String) -> bool {
    off_thread(move || verify(&password, &stored)).await
}

/// A readable random password for generated accounts (no look-alike characters).
pub fn generate() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..14)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse", &stored));
        assert!(!verify("correct horsE", &stored));
        assert!(!verify("correct horse", "not a hash"));
    }

    #[tokio::test]
    async fn off_thread_hashing_agrees_with_the_direct_functions() {
        let stored = hash_off_thread("correct horse".into()).await;
        assert!(verify("correct horse", &stored));
        assert!(verify_off_thread("correct horse".into(), stored.clone()).await);
        assert!(!verify_off_thread("wrong".into(), stored).await);
    }
}
