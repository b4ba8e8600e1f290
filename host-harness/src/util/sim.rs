//! Running a run on virtual time: its own thread and a single-threaded
//! tokio runtime whose clock is paused, so time moves only when every task
//! waits, and then straight to the next timer. Nothing runs in parallel,
//! so one seed gives one order of events.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A future a simulation runs (made on its thread, so it need not be
/// `Send`).
pub type SimFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Runs what `make` returns on a fresh thread with a paused, single-
/// threaded runtime, and waits (on the caller's runtime) for its output.
/// `None` if it does not end within `wall` of real time (a process in an
/// endless loop with no `cpu_limit`, a run whose node time never stops
/// moving): then the simulation is stopped and its tasks dropped, so
/// nothing keeps spinning after it (a module call that never returns
/// holds the thread until it does).
pub async fn simulate<T: Send + 'static>(
    wall: Duration,
    make: impl FnOnce() -> SimFuture<T> + Send + 'static,
) -> Option<T> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("host-harness-sim".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .start_paused(true)
                .build()
                .expect("a current-thread runtime builds");
            // Processes yield by fuel, so the runtime comes back here
            // often enough to see the stop even while one computes.
            let output = runtime.block_on(async move {
                tokio::select! {
                    biased;
                    _ = stopped => None,
                    output = make() => Some(output),
                }
            });
            // Tasks still parked (a module's blocking work) are not waited
            // for.
            runtime.shutdown_background();
            if let Some(output) = output {
                let _ = sender.send(output);
            }
        });
    if spawned.is_err() {
        return None;
    }
    match tokio::time::timeout(wall, receiver).await {
        Ok(output) => output.ok(),
        Err(_) => {
            let _ = stop.send(());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_long_wait_takes_no_real_time() {
        let started = std::time::Instant::now();
        let slept = simulate(Duration::from_secs(30), || {
            Box::pin(async {
                let before = tokio::time::Instant::now();
                tokio::time::sleep(Duration::from_secs(300)).await;
                before.elapsed()
            })
        })
        .await;
        assert_eq!(slept, Some(Duration::from_secs(300)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_run_that_never_ends_is_given_up_on_in_real_time() {
        let never = simulate(Duration::from_millis(100), || {
            Box::pin(std::future::pending::<()>())
        })
        .await;
        assert_eq!(never, None);
    }

    #[tokio::test]
    async fn a_run_given_up_on_stops_rather_than_spinning_on() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        // A task that never waits on anything but keeps yielding, as a
        // process in an endless loop does (by fuel).
        let dropped = Arc::new(AtomicBool::new(false));
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Flag(dropped.clone());
        let never = simulate(Duration::from_millis(100), move || {
            Box::pin(async move {
                let _flag = flag;
                loop {
                    tokio::task::yield_now().await;
                }
            })
        })
        .await;
        assert_eq!(never, None::<()>);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !dropped.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            dropped.load(Ordering::SeqCst),
            "the spinning run was stopped"
        );
    }
}
