//! The real application, served by [`cantine::http::serve`] on a loopback port until dropped.
//!
//! ```no_run
//! # async fn example(monday_9am: chrono::DateTime<chrono::Utc>, later: chrono::DateTime<chrono::Utc>) {
//! use cantine_test_support::TestApp;
//!
//! let app = TestApp::builder()
//!     .clock(monday_9am)
//!     .config(|c| c.http.request_timeout_secs = 5)
//!     .spawn()
//!     .await;
//! app.clock().set(later);
//! let home = reqwest::get(app.url("/")).await.unwrap();
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cantine::http::{self, AppState};
use cantine::platform::clock::FixedClock;
use cantine::platform::config::Config;
use cantine_domain::rules::Rules;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::cluster::{self, TestDb};

/// A change to the test configuration, applied before the state is built.
type ConfigChange = Box<dyn FnOnce(&mut Config) + Send>;

/// How the application of one test is set up: every part has a default.
#[must_use]
#[derive(Default)]
pub struct TestAppBuilder {
    clock: Option<DateTime<Utc>>,
    data_dir: Option<PathBuf>,
    configure: Vec<ConfigChange>,
    pool: Option<PgPool>,
}

impl TestAppBuilder {
    /// Stops the clock at `at`; [`TestApp::clock`] moves it. Without it, the system clock.
    pub fn clock(mut self, at: DateTime<Utc>) -> Self {
        self.clock = Some(at);
        self
    }

    /// The data folder (mail spool, backup records). Without it, a temporary folder that the
    /// [`TestApp`] deletes when dropped.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Changes the test configuration ([`cluster::config`]) before the state is built; called
    /// after the data folder is set, in the order given.
    pub fn config(mut self, change: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.configure.push(Box::new(change));
        self
    }

    /// Serves this database. Without it (nor [`Self::pool`]), a fresh migrated one.
    pub fn database(self, db: TestDb) -> Self {
        self.pool(db.pool)
    }

    /// Serves this pool, of any cluster (a test that stops its own server, say).
    pub fn pool(mut self, pool: PgPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Binds 127.0.0.1 on a port the system picks and serves the real router there.
    pub async fn spawn(self) -> TestApp {
        let pool = match self.pool {
            Some(pool) => pool,
            None => cluster::database().await.pool,
        };
        let (data_dir, owned_dir) = match self.data_dir {
            Some(dir) => (dir, None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("cantine-test-data-")
                    .tempdir()
                    .expect("temporary data folder");
                (dir.path().to_owned(), Some(dir))
            }
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local address");

        let mut config = cluster::config();
        config.data_dir = data_dir.clone();
        config.listen = address;
        for change in self.configure {
            change(&mut config);
        }
        // `public_url` stays as configured (http://127.0.0.1:8080 by default), so that a test
        // decides which `Origin` is the service's own.
        let mut state = AppState::new(pool.clone(), config).expect("application state");
        let clock = self.clock.map(|at| Arc::new(FixedClock::new(at)));
        if let Some(clock) = &clock {
            state.clock = clock.clone();
        }

        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(http::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        TestApp {
            base_url: format!("http://{address}"),
            state,
            pool,
            clock,
            data_dir,
            _owned_dir: owned_dir,
            stop: Some(stop),
        }
    }
}

/// The application serving on a loopback port; dropping it stops the server.
pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    /// The pool the application serves (the same as `state.pool`).
    pub pool: PgPool,
    clock: Option<Arc<FixedClock>>,
    data_dir: PathBuf,
    _owned_dir: Option<TempDir>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// Every default: a fresh migrated database, a temporary data folder, the system clock.
    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The stopped clock, to move time. Panics unless the builder set one.
    pub fn clock(&self) -> &FixedClock {
        self.clock
            .as_deref()
            .expect("TestApp::builder().clock(at) stops the clock; this app runs on the system's")
    }

    /// The data folder: the mail spool is its `mail/`.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The commune's calendar and deadline rules, judged at the application's `now`.
    pub fn rules(&self) -> Rules<'_> {
        self.state.rules()
    }

    /// The `Origin` of the service's own pages, as a browser sends it on unsafe requests.
    pub fn origin(&self) -> String {
        self.state.config.public_url.origin().ascii_serialization()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
