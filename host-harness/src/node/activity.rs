//! Knowing when a run is over: every piece of pending work (a process
//! executing wasm, a queued message, a sleeping timer or restart) holds an
//! [`InFlight`] guard. When the last guard drops, nothing can happen any
//! more and the harness writes its report.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

#[derive(Default)]
pub struct Activity {
    count: AtomicUsize,
    idle: Notify,
}

/// One piece of pending work; dropping it ends that work.
pub struct InFlight(Arc<Activity>);

impl Activity {
    pub fn enter(self: &Arc<Self>) -> InFlight {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    /// Whether no work is pending now.
    pub fn is_idle(&self) -> bool {
        self.count.load(Ordering::SeqCst) == 0
    }

    /// Completes the next time the last pending work ends.
    pub fn went_idle(&self) -> tokio::sync::futures::Notified<'_> {
        self.idle.notified()
    }

    /// Waits until no work is pending; false if `timeout` passed first.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_only_after_the_last_guard_drops() {
        let activity = Arc::new(Activity::default());
        let a = activity.enter();
        let b = activity.enter();
        assert!(!activity.wait_idle(Duration::from_millis(20)).await);
        drop(a);
        assert!(!activity.wait_idle(Duration::from_millis(20)).await);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(b);
        });
        assert!(activity.wait_idle(Duration::from_secs(5)).await);
    }
}
