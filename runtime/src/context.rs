//! The current runtime of this thread.
//!
//! `spawn`, `sleep` and the wakers find their runtime through one
//! thread-local pointer to its [`Core`], set while `block_on` runs (and while
//! the runtime shuts down). It is a plain `Cell` holding a raw pointer: the
//! pointer is only dereferenced while the [`Entered`] guard that set it is
//! alive, and that guard borrows the `Core`.

use std::cell::Cell;
use std::ptr;

use crate::executor::Core;

thread_local! {
    /// The `Core` of the runtime this thread is running, or null.
    ///
    /// # Invariant
    ///
    /// Non-null only while an [`Entered`] guard that borrows that `Core` is alive.
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with the current runtime's core, if this thread is running one.
#[inline]
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    let core = CURRENT.with(Cell::get);
    // SAFETY: CURRENT's invariant: a non-null pointer is a Core borrowed by a live guard.
    f(unsafe { core.as_ref() })
}

/// Runs `f` with the current core if this thread is running runtime `id`
/// (`Shared::id`), and returns `None` otherwise — on another thread, outside
/// any runtime, or inside a different one. This is the one question behind
/// every "local fast path or message to the owner" choice: waking a task,
/// cancelling it, spawning through a `Handle`, cancelling a timer.
#[inline]
pub(crate) fn with_runtime<R>(id: u64, f: impl FnOnce(&Core) -> R) -> Option<R> {
    with_maybe_runtime(id, |core| core.map(f))
}

/// [`with_runtime`] for callers that act either way: `f` always runs, with
/// the core if this thread is running runtime `id`, with `None` otherwise.
#[inline]
pub(crate) fn with_maybe_runtime<R>(id: u64, f: impl FnOnce(Option<&Core>) -> R) -> R {
    with_core(|core| f(core.filter(|core| core.shared.id == id)))
}

/// Runs `f` with the current runtime's core, or panics with `what` and the
/// advice every such panic gives. The panic names the user's line: every
/// public function that calls this is `#[track_caller]`, and the panic is
/// raised here, not inside a closure (a closure would report this file).
#[inline]
#[track_caller]
pub(crate) fn expect_core<R>(what: &str, f: impl FnOnce(&Core) -> R) -> R {
    let core = CURRENT.with(Cell::get);
    // SAFETY: CURRENT's invariant: a non-null pointer is a Core borrowed by a live guard.
    match unsafe { core.as_ref() } {
        Some(core) => f(core),
        None => outside_runtime(what),
    }
}

/// The panic of [`expect_core`], out of line so that the hot path of every
/// `spawn` stays small enough to inline.
#[cold]
#[inline(never)]
#[track_caller]
fn outside_runtime(what: &str) -> ! {
    panic!(
        "{what} called outside of a spindle runtime: call it from inside \
         `spindle::run(async {{ ... }})` or `Runtime::block_on`, or use a `Handle` \
         from another thread"
    )
}

/// Makes a runtime current for as long as the guard lives.
pub(crate) struct Entered<'a> {
    previous: *const Core,
    _core: std::marker::PhantomData<&'a Core>,
}

/// Enters `core` for `block_on`: a thread runs at most one runtime at a time.
#[track_caller]
pub(crate) fn enter(core: &Core) -> Entered<'_> {
    if with_core(|current| current.is_some()) {
        panic!(
            "cannot start a runtime from within a runtime: `block_on`/`run` was called \
             while this thread is already running a spindle runtime. Use `spawn` (or \
             `.await` the future directly) instead."
        );
    }
    enter_unchecked(core)
}

/// Enters `core` even if another runtime is current (used for shutdown,
/// which may happen while another runtime runs), restoring it afterwards.
pub(crate) fn enter_unchecked(core: &Core) -> Entered<'_> {
    let previous = CURRENT.with(|current| current.replace(core));
    Entered {
        previous,
        _core: std::marker::PhantomData,
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
    }
}
