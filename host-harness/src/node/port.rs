//! The one way processes and runtime modules reach the kernel. A module
//! is a plug-in that gets a `Port`; it never sees the node's insides, and
//! a test can hand it a fake one.

use std::future::Future;
use std::pin::Pin;

use tokio::task::AbortHandle;

use super::activity::InFlight;
use crate::kernel::message::KernelMessage;
use crate::kernel::{Event, Kernel, WasmKey};

/// A task the node owns: aborted when the run ends.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Port: Send + Sync {
    /// This node's name.
    fn node(&self) -> &str;
    /// Runs `f` on the kernel; the node then carries out what it decided.
    /// Kernel calls are atomic, as in the real kernel's single loop.
    fn with_kernel(&self, f: &mut dyn FnMut(&mut Kernel));
    /// Runs `task` until it ends or the run does.
    fn spawn(&self, task: Task) -> AbortHandle;
    /// Marks work as pending: the run is not over while it is held.
    fn busy(&self) -> InFlight;
    /// Compiles a component (cached by its bytes' hash); `Err` says why a
    /// node would not run it.
    fn load(&self, bytes: &[u8]) -> Result<WasmKey, String>;
}

impl dyn Port {
    /// [`Port::with_kernel`] returning `f`'s result.
    pub fn kernel<R>(&self, f: impl FnOnce(&mut Kernel) -> R) -> R {
        let mut f = Some(f);
        let mut result = None;
        self.with_kernel(&mut |kernel| {
            if let Some(f) = f.take() {
                result = Some(f(kernel));
            }
        });
        result.expect("with_kernel calls its closure once")
    }

    /// Routes `km` as its source (a module's answer).
    pub fn send(&self, km: KernelMessage) {
        self.kernel(|k| k.send(km));
    }

    /// Reports what a module noticed.
    pub fn note(&self, event: Event) {
        self.kernel(|k| k.note(event));
    }
}
