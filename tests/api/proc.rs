//! `Proc`: the real `ontograph` binary on port 0 with JSON logs, for the
//! tests that signal or kill it (`crash`, `shutdown`). Every stderr line
//! is kept so tests can wait for and inspect log lines.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running `ontograph` process; killed (SIGKILL) when dropped, so a
/// failing test never leaves it behind.
pub struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
    /// Every stderr line so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl Proc {
    /// Start the binary on `db` (port 0, no demo, JSON logs at `info`) and
    /// wait for the `listening` line to learn the bound address.
    pub async fn spawn(db: &str) -> Proc {
        Proc::spawn_with(db, &[], "info").await
    }

    /// The same with extra flags and a `RUST_LOG` filter.
    pub async fn spawn_with(db: &str, extra: &[&str], rust_log: &str) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ontograph"))
            .args(["--addr", "127.0.0.1:0", "--database-url", db, "--no-demo", "--log-format", "json"])
            .args(extra)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn ontograph");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        // Reads stderr to the end, so the pipe never fills.
        let lines = log.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                lines.lock().unwrap().push(line);
            }
        });
        let mut proc = Proc { child, addr: "0.0.0.0:0".parse().unwrap(), log };
        let listening = proc.wait_for_log("listening", Duration::from_secs(60)).await;
        let addr = listening["fields"]["addr"].as_str().expect("addr in the listening line");
        proc.addr = addr.parse().unwrap_or_else(|e| panic!("bad addr {addr:?}: {e}"));
        proc
    }

    /// The first JSON log line whose message contains `text`, waiting for
    /// it at most `limit`; panics with the log when the process exits first.
    pub async fn wait_for_log(&mut self, text: &str, limit: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(v) = self.find_log(|v| v["fields"]["message"].as_str().is_some_and(|m| m.contains(text))) {
                return v;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Its last lines may still be on their way through the
                // reader task (slow on a loaded machine): give it time.
                for _ in 0..100 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if let Some(v) =
                        self.find_log(|v| v["fields"]["message"].as_str().is_some_and(|m| m.contains(text)))
                    {
                        return v;
                    }
                }
                panic!("ontograph exited ({status}) before logging {text:?}; stderr:\n{}", self.log_text());
            }
            if tokio::time::Instant::now() > deadline {
                panic!("ontograph did not log {text:?} within {limit:?}; stderr:\n{}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The first JSON log line matching `pred`.
    pub fn find_log(&self, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        let lines = self.log.lock().unwrap();
        lines.iter().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| pred(v))
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("process still running")
    }

    /// Send SIGTERM.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status().unwrap();
        assert!(status.success(), "kill -TERM failed");
    }
}
