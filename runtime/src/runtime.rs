//! The public face of the executor: [`run`], [`Runtime`], [`Builder`],
//! [`Handle`], [`spawn`], [`spawn_named`] and [`yield_now`].
//!
//! A `Runtime` owns one event loop on the thread that creates it; it is not
//! `Send`, and every task it runs stays on that thread. Other threads reach it
//! through a [`Handle`].

use std::future::Future;
use std::io;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::blocking::BlockingPool;
use crate::context;
use crate::dump::TaskDump;
use crate::executor::{Core, Turn};
use crate::join::JoinHandle;
use crate::mailbox::{drop_handle, PendingSpawn, Remote, Shared};
use crate::metrics::MetricsSnapshot;
use crate::reactor::Reactor;
use crate::report::name_the_seed;
use crate::task::{NotSend, TaskRef};
use crate::time::clock::Clock;
use crate::trace::Tracer;
use futures_task::{FutureObj, LocalFutureObj, SpawnError};

/// Runs `future` to completion on a fresh runtime and returns its output,
/// like `asyncio.run`.
///
/// Before `run` returns, every task still pending is cancelled: its future is
/// dropped, exactly once, on this thread. With `SPINDLE_CLOCK=virtual` in the
/// environment the runtime uses virtual time ([`Builder::virtual_time`]);
/// with `SPINDLE_TRACE=path.json` it writes a trace ([`Builder::trace`]).
///
/// A runtime is cheap: its poller is created only when something needs it
/// (a socket registers, or the loop has to wait for a timer), and waiting
/// for another thread parks on a condition variable, so
/// `spindle::run(async {})` makes no syscall and takes a few microseconds.
/// Calling `run` once per test or per message costs little more than
/// reusing one [`Runtime`].
///
/// # Examples
///
/// ```
/// let greeting = spindle::run(async { "hello" });
/// assert_eq!(greeting, "hello");
/// ```
///
/// # Panics
///
/// If called from inside a runtime (message: `cannot start a runtime from
/// within a runtime`), if `SPINDLE_CLOCK` or `SPINDLE_SEED` holds a value
/// spindle does not accept, if `future` panics, or if the loop has to wait
/// for a timer and the operating system refuses it a poller (no file
/// descriptor left).
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    // A `match`, not `unwrap_or_else`: a panic inside a closure would name
    // this file instead of the caller's line.
    let runtime = match Runtime::builder().from_env().build() {
        Ok(runtime) => runtime,
        Err(error) => panic!("spindle::run could not create its runtime: {error}"),
    };
    runtime.block_on(future)
}

/// An event loop: a ready queue, a timer wheel and a reactor on one thread.
///
/// # Examples
///
/// ```
/// let runtime = spindle::Runtime::new()?;
/// let four = runtime.block_on(async { 2 + 2 });
/// assert_eq!(four, 4);
/// # std::io::Result::Ok(())
/// ```
pub struct Runtime {
    core: Box<Core>,
    _not_send: NotSend,
}

impl Runtime {
    /// A runtime with real time and no trace.
    ///
    /// # Errors
    ///
    /// None today: the runtime's poller is created when first needed, not
    /// here. Then a socket that cannot get one returns the error (too many
    /// open files), and a loop that must wait for a timer and cannot get one
    /// panics (see [`block_on`](Runtime::block_on)).
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
    }

    /// Starts configuring a runtime.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Drives `future` to completion on this thread, running the runtime's
    /// tasks, timers and I/O meanwhile, and returns its output. Tasks still
    /// pending when it returns stay in the runtime (paused) until the next
    /// `block_on` or until the runtime is dropped, which cancels them.
    ///
    /// # Panics
    ///
    /// If this thread is already running a runtime (the message contains
    /// `cannot start a runtime from within a runtime`), if `future` panics,
    /// or if the loop has to wait for a timer and the operating system
    /// refuses to create its poller (no file descriptor left); the message
    /// then says so.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.block_on_naming_the_seed(future, true)
    }

    /// [`block_on`](Runtime::block_on); `name_seed: false` leaves a
    /// seeded run's panic as it was, for `explore`, which names the seed
    /// itself.
    #[track_caller]
    pub(crate) fn block_on_naming_the_seed<F: Future>(
        &self,
        future: F,
        name_seed: bool,
    ) -> F::Output {
        let core = &*self.core;
        let _entered = context::enter(core);
        let mut future = pin!(future);
        let mut output = None;
        let mut poll_main = |cx: &mut Context<'_>| match future.as_mut().poll(cx) {
            Poll::Ready(value) => {
                output = Some(value);
                true
            }
            Poll::Pending => false,
        };
        let caller = Location::caller();
        core.block_on_at.set(Some(caller));
        core.start_main();
        let mut run = || loop {
            match core.turn(&mut poll_main) {
                Turn::Again => {}
                Turn::MainDone => break,
                Turn::Deadlock => deadlock(core, caller),
            }
        };
        match core.seed.filter(|_| name_seed) {
            None => run(),
            Some(seed) => {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(run)) {
                    resume_unwind(name_the_seed(payload, seed))
                }
            }
        }
        output.expect("block_on's future finished without an output")
    }

    /// A snapshot of every live task: what it waits on, who awaits it, where
    /// it was spawned ([`TaskDump`]). Between `block_on` calls every task
    /// shows as it was left.
    pub fn dump(&self) -> TaskDump {
        self.core.dump()
    }

    /// A handle to this runtime, for other threads.
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.shared.clone())
    }

    /// Counters of what this runtime has done so far (see [`MetricsSnapshot`]).
    pub fn metrics(&self) -> MetricsSnapshot {
        self.core.metrics.snapshot(self.core.live_tasks())
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _entered = context::enter_unchecked(&self.core);
        self.core.shutdown();
        if let Some(tracer) = &self.core.tracer {
            tracer.finish();
        }
    }
}

/// Configures a [`Runtime`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let runtime = spindle::Runtime::builder().virtual_time(true).build()?;
/// let waited = runtime.block_on(async {
///     let start = spindle::time::now();
///     spindle::time::sleep(Duration::from_secs(3600)).await;
///     spindle::time::now() - start
/// });
/// assert_eq!(waited, Duration::from_secs(3600)); // at once, in virtual time
/// # std::io::Result::Ok(())
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    virtual_time: bool,
    trace: Option<PathBuf>,
    seed: Option<u64>,
    stall_report: Option<Duration>,
    histograms: bool,
    /// A `SPINDLE_*` variable with a value spindle does not understand,
    /// reported by `build` rather than silently ignored.
    env_error: Option<String>,
}

impl Builder {
    /// Virtual time: the clock moves only when no task is ready; then,
    /// instead of sleeping, the runtime checks the reactor without blocking
    /// and jumps the clock to the next timer deadline. While a `to_thread`
    /// job runs it waits for it in real time first. Same output and order as
    /// real time, with none of the waiting.
    ///
    /// # Deadlocks
    ///
    /// Under virtual time a program that can never go on does not hang: the
    /// `block_on` (or `run`) panics with a message containing `deadlock` and
    /// the task dump ([`Runtime::dump`]). The runtime knows nothing can go on
    /// when, at once:
    ///
    /// - no task is ready and no timer is pending (no `sleep`, `timeout`,
    ///   `call_later`, `interval`);
    /// - no task waits for I/O on a socket (the reactor has no waiter);
    /// - no `to_thread` job is running;
    /// - no [`Handle`] of the runtime is alive, anywhere, and no message from
    ///   another thread is waiting. A live `Handle` means another thread may
    ///   still spawn or wake, so the runtime waits for it in real time.
    ///
    /// A waker that reaches another thread by any other way — an `Event`
    /// clone moved into a `std::thread` that sets it later — is invisible to
    /// the runtime. Such a thread must hold a `Handle` (`Handle::current()`)
    /// for as long as it may wake a task; otherwise the runtime may report a
    /// deadlock that this thread was about to end.
    pub fn virtual_time(mut self, on: bool) -> Builder {
        self.virtual_time = on;
        self
    }

    /// Writes a Chrome Trace Event file (Perfetto, chrome://tracing) to
    /// `path` when the runtime is dropped.
    pub fn trace(mut self, path: impl AsRef<Path>) -> Builder {
        self.trace = Some(path.as_ref().to_path_buf());
        self
    }

    /// A seeded schedule: instead of first in, first out, the loop polls the
    /// tasks that are ready together in an order drawn from a pseudo-random
    /// generator seeded with `seed`, and fires timers due at the same
    /// instant in a seeded order too. Everything else stays as it is,
    /// including the fairness bound ([`MAX_POLLS_PER_TURN`](crate::MAX_POLLS_PER_TURN):
    /// a task `k`-th in the ready queue when a turn begins is polled within
    /// `⌈k / 61⌉` turns, whatever the seed).
    ///
    /// A different seed shows a different, equally legal interleaving: a
    /// program that is only correct under FIFO fails for some seeds.
    /// [`explore`](crate::explore) tries many.
    ///
    /// # Determinism
    ///
    /// Under virtual time, a seeded run of a program that uses no real I/O
    /// and no other thread (no `to_thread`, no `Handle` used elsewhere) is a
    /// pure function of the program and the seed: the same seed gives the
    /// same output and the same trace, byte for byte. Sockets, `to_thread`
    /// jobs and wakes from other threads arrive when the operating system
    /// delivers them, so with them a seeded run still works, and still
    /// draws its choices from the seed, but two runs may differ. In real
    /// time the clock itself differs between runs, so timers that are due
    /// "together" in one run may not be in the next.
    ///
    /// # Panics
    ///
    /// A panic that escapes [`block_on`](Runtime::block_on) of a seeded
    /// runtime names the seed, so the run can be replayed: its message gains
    /// `(seed N: replay with SPINDLE_SEED=N)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{spawn, yield_now, Runtime};
    /// use std::{cell::RefCell, rc::Rc};
    ///
    /// // The order two ready tasks run in, under one seed.
    /// let order = |seed| {
    ///     let runtime = Runtime::builder().virtual_time(true).seed(seed).build().unwrap();
    ///     runtime.block_on(async {
    ///         let log = Rc::new(RefCell::new(String::new()));
    ///         let (a, b) = (log.clone(), log.clone());
    ///         let a = spawn(async move { a.borrow_mut().push('a') });
    ///         let b = spawn(async move { b.borrow_mut().push('b') });
    ///         let (_, _) = (a.await, b.await);
    ///         let order = log.borrow().clone();
    ///         order
    ///     })
    /// };
    /// assert_eq!(order(7), order(7)); // a seed always gives the same schedule
    /// assert!((0..20).any(|seed| order(seed) == "ba")); // and some seeds reorder
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// The stall report: in real time, when tasks are alive and none has
    /// been polled for `after`, the task dump ([`Runtime::dump`]) is
    /// printed to stderr, once per stall (a poll starts a new one). For a
    /// program that seems to hang: it says what every task waits on.
    /// `SPINDLE_STALL_MS=n` sets it from the environment ([`from_env`](Builder::from_env)).
    ///
    /// It is checked when the loop is about to block, so it costs nothing
    /// while tasks run. It cannot report a task that blocks the thread inside
    /// its poll (a `std::thread::sleep` in a task): nothing runs to see it.
    /// Under virtual time it is not needed: a program that can never go on
    /// panics with the dump instead (see [`virtual_time`](Builder::virtual_time)).
    pub fn stall_report(mut self, after: Duration) -> Builder {
        self.stall_report = Some(after);
        self
    }

    /// Keeps two histograms in [`MetricsSnapshot`]: schedule latency (wake
    /// → start of the poll) and poll duration, in power-of-two buckets of
    /// nanoseconds ([`Histogram`](crate::Histogram)). Off by default, as
    /// tokio's poll-time histogram is: they cost three `Instant::now()`
    /// readings per poll (when the task is queued, when its poll starts,
    /// when it ends), and on the shortest polls that is more than the poll
    /// itself (`examples/sched_latency.rs` measures it).
    pub fn histograms(mut self, on: bool) -> Builder {
        self.histograms = on;
        self
    }

    /// Applies the environment, as [`run`] does: `SPINDLE_CLOCK=virtual` (or
    /// `real`, the default), `SPINDLE_TRACE=path`, `SPINDLE_SEED=n`
    /// ([`seed`](Builder::seed)) and `SPINDLE_STALL_MS=n`
    /// ([`stall_report`](Builder::stall_report)). An empty variable counts
    /// as unset. A value spindle does not accept — `SPINDLE_CLOCK=virtal` —
    /// makes [`build`](Builder::build) fail with an error that names the
    /// variable and the accepted values, instead of being ignored.
    pub fn from_env(mut self) -> Builder {
        if let Some(clock) = std::env::var_os("SPINDLE_CLOCK").filter(|v| !v.is_empty()) {
            match clock.to_str() {
                Some("virtual") => self.virtual_time = true,
                Some("real") => self.virtual_time = false,
                _ => {
                    self.env_error = Some(format!(
                        "SPINDLE_CLOCK={}: the accepted values are `virtual` and `real`",
                        clock.to_string_lossy()
                    ))
                }
            }
        }
        if let Some(path) = std::env::var_os("SPINDLE_TRACE").filter(|p| !p.is_empty()) {
            self.trace = Some(PathBuf::from(path));
        }
        if let Some(ms) = std::env::var_os("SPINDLE_STALL_MS").filter(|v| !v.is_empty()) {
            match ms.to_str().and_then(|ms| ms.trim().parse::<u64>().ok()) {
                Some(ms) => self.stall_report = Some(Duration::from_millis(ms)),
                None => {
                    self.env_error = Some(format!(
                    "SPINDLE_STALL_MS={}: the accepted values are whole numbers of milliseconds",
                    ms.to_string_lossy()
                ))
                }
            }
        }
        if let Some(seed) = std::env::var_os("SPINDLE_SEED").filter(|v| !v.is_empty()) {
            match seed
                .to_str()
                .and_then(|seed| seed.trim().parse::<u64>().ok())
            {
                Some(seed) => self.seed = Some(seed),
                None => {
                    self.env_error = Some(format!(
                        "SPINDLE_SEED={}: the accepted values are whole numbers from 0 to {}",
                        seed.to_string_lossy(),
                        u64::MAX
                    ))
                }
            }
        }
        self
    }

    /// Creates the runtime.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when [`from_env`](Builder::from_env) found a
    /// `SPINDLE_*` variable with a value it does not accept. Nothing else:
    /// the poller is created when first needed (see [`Runtime::new`]).
    pub fn build(self) -> io::Result<Runtime> {
        if let Some(message) = self.env_error {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        }
        let reactor = Arc::new(Reactor::new());
        let (sender, receiver) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared::new(sender, reactor, BlockingPool::new()));
        let clock = Clock::new(self.virtual_time);
        let tracer = self
            .trace
            .map(|path| Tracer::new(path, clock.now(), clock.is_virtual()));
        Ok(Runtime {
            core: Box::new(Core::new(
                shared,
                receiver,
                clock,
                tracer,
                self.seed,
                self.stall_report,
                self.histograms,
            )),
            _not_send: NotSend::default(),
        })
    }
}

/// A handle to a runtime that other threads can use: `Clone + Send + Sync`.
///
/// # Examples
///
/// ```
/// let runtime = spindle::Runtime::new()?;
/// let handle = runtime.handle();
/// let from_thread = std::thread::spawn(move || handle.spawn(async { "sent from a thread" }))
///     .join()
///     .unwrap();
/// assert_eq!(runtime.block_on(from_thread).unwrap(), "sent from a thread");
/// # std::io::Result::Ok(())
/// ```
pub struct Handle {
    shared: Arc<Shared>,
}

/// Every `Handle` is counted (`Shared::handles`): while one is alive,
/// another thread may still wake a task, so virtual time waits rather than
/// report a deadlock.
impl Clone for Handle {
    fn clone(&self) -> Handle {
        Handle::new(self.shared.clone())
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        drop_handle(&self.shared.handles);
    }
}

impl Handle {
    fn new(shared: Arc<Shared>) -> Handle {
        // Relaxed: a new Handle is made from the runtime's own thread or by
        // cloning one, so the count was already non-zero or the loop is the
        // one counting.
        shared
            .handles
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Handle { shared }
    }

    /// A snapshot of every live task of the runtime ([`TaskDump`]), from
    /// any thread. Inside one of the runtime's own tasks it is taken at
    /// once (the calling task shows as running). From another thread the
    /// request goes through the mailbox, and the loop answers at its next
    /// turn: the call blocks until then — while the runtime's thread is
    /// inside `block_on`; between `block_on` calls it waits for the next
    /// one. If the runtime is gone, the dump is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// let runtime = spindle::Runtime::new()?;
    /// let handle = runtime.handle();
    /// let asker = std::thread::spawn(move || handle.dump());
    /// runtime.block_on(async {
    ///     // Keep the loop turning until the other thread has its answer:
    ///     // each yield ends a turn, and the next one answers the question.
    ///     while !asker.is_finished() {
    ///         spindle::yield_now().await;
    ///     }
    /// });
    /// let dump = asker.join().unwrap();
    /// assert_eq!(dump.tasks()[0].name(), Some("main"));
    /// # std::io::Result::Ok(())
    /// ```
    pub fn dump(&self) -> TaskDump {
        if let Some(dump) = context::with_runtime(self.shared.id, Core::dump) {
            return dump;
        }
        let (answer, question) = crossbeam_channel::bounded(1);
        self.shared.send(Remote::Dump(answer));
        question.recv().unwrap_or_else(|_| TaskDump::empty())
    }

    /// The handle of the runtime running on this thread.
    ///
    /// # Panics
    ///
    /// Outside of a runtime (message contains `outside of a spindle runtime`).
    #[track_caller]
    pub fn current() -> Handle {
        context::expect_core("Handle::current", |core| Handle::new(core.shared.clone()))
    }

    /// Spawns a `Send` future onto the runtime from any thread, like
    /// asyncio's `run_coroutine_threadsafe`. The runtime's loop is roused if
    /// it is blocked waiting for I/O or timers. If the runtime has shut
    /// down, the future is dropped and the handle resolves to a cancelled
    /// `JoinError`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = TaskRef::new(future, self.shared.clone(), None, Location::caller(), None);
        // SAFETY: a fresh task whose output is F::Output; the handle takes its HANDLE reference.
        let handle = unsafe { JoinHandle::new(task) };
        if context::with_runtime(self.shared.id, |core| core.spawn(task)).is_none() {
            self.shared.send(Remote::Spawn(PendingSpawn::new(task)));
        }
        handle
    }

    /// Counters of what the runtime has done so far. Only the runtime's own
    /// thread can read them while it runs: elsewhere this returns `None`.
    pub fn metrics(&self) -> Option<MetricsSnapshot> {
        context::with_runtime(self.shared.id, |core| {
            core.metrics.snapshot(core.live_tasks())
        })
    }
}

/// `futures::task::SpawnExt` on spindle: `handle.spawn(fut)` from the
/// futures crate spawns through [`Handle::spawn`], from any thread. The
/// task is detached; `SpawnExt::spawn_with_handle` gives a handle to await.
///
/// # Errors
///
/// Never: a runtime that has shut down drops the future (as
/// [`Handle::spawn`] does), which `Spawn` cannot report.
impl futures_task::Spawn for Handle {
    fn spawn_obj(&self, future: FutureObj<'static, ()>) -> Result<(), SpawnError> {
        drop(Handle::spawn(self, future));
        Ok(())
    }
}

/// `futures::task::LocalSpawnExt` on spindle: spawns a future that need
/// not be `Send`, as [`spawn`] does. It only works on the runtime's own
/// thread while the runtime runs (inside `block_on`), where `!Send` tasks
/// live.
///
/// # Errors
///
/// `SpawnError::shutdown()` on any other thread, or outside `block_on`.
impl futures_task::LocalSpawn for Handle {
    fn spawn_local_obj(&self, future: LocalFutureObj<'static, ()>) -> Result<(), SpawnError> {
        let at = Location::caller();
        context::with_runtime(self.shared.id, |core| {
            drop(spawn_on(core, future, None, at))
        })
        .ok_or_else(SpawnError::shutdown)
    }
}

/// Spawns onto this runtime from its own thread, before or between
/// `block_on` calls; the task first runs at the next `block_on`. (A
/// `Runtime` is not `Send`, so this is always its own thread.)
impl futures_task::LocalSpawn for Runtime {
    fn spawn_local_obj(&self, future: LocalFutureObj<'static, ()>) -> Result<(), SpawnError> {
        drop(spawn_on(&self.core, future, None, Location::caller()));
        Ok(())
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Spawns a task on the current runtime, like `asyncio.create_task`. The
/// future need not be `Send`: it runs on this thread only. It first runs at a
/// later turn of the loop, never inside `spawn`.
///
/// # Examples
///
/// ```
/// spindle::run(async {
///     let shared = std::rc::Rc::new(5); // not Send, and that is fine
///     let handle = spindle::spawn(async move { *shared * 2 });
///     assert_eq!(handle.await.unwrap(), 10);
/// });
/// ```
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    spawn_inner(future, None)
}

/// [`spawn`] with a name that traces and `JoinError` messages show.
///
/// # Examples
///
/// ```
/// spindle::run(async {
///     let handle = spindle::spawn_named("worker", async { panic!("boom") });
///     let error = handle.await.unwrap_err();
///     assert!(error.to_string().contains("'worker'"));
/// });
/// ```
///
/// # Panics
///
/// Outside of a runtime (message contains `outside of a spindle runtime`).
#[track_caller]
pub fn spawn_named<F>(name: &str, future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
{
    spawn_inner(future, Some(name))
}

#[track_caller]
fn spawn_inner<F: Future + 'static>(future: F, name: Option<&str>) -> JoinHandle<F::Output> {
    // Taken here, not in the closure: a closure would name this file.
    let spawned_at = Location::caller();
    context::expect_core("spawn", |core| spawn_on(core, future, name, spawned_at))
}

/// Spawns `future` on `core`'s runtime (its own thread). Inlined: it is the
/// hot path of every `spawn`, and `name` is a constant at most call sites.
#[inline]
fn spawn_on<F: Future + 'static>(
    core: &Core,
    future: F,
    name: Option<&str>,
    spawned_at: &'static Location<'static>,
) -> JoinHandle<F::Output> {
    let task = TaskRef::new(
        future,
        core.shared.clone(),
        name,
        spawned_at,
        Some(&core.blocks),
    );
    core.spawn(task);
    // SAFETY: a fresh task whose output is F::Output; the handle takes its HANDLE reference.
    unsafe { JoinHandle::new(task) }
}

/// Lets every other ready task run once before the caller continues, like
/// `await asyncio.sleep(0)`.
///
/// # Examples
///
/// ```
/// spindle::run(async {
///     let other = spindle::spawn(async { "ran" });
///     spindle::yield_now().await; // `other` runs here
///     assert!(other.is_finished());
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
///
/// # Cancellation
///
/// Dropping it after its first poll leaves one effect: the task was already
/// woken, so it is polled once more at its turn (a spurious poll, which every
/// future must tolerate). Nothing else.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Going to the back of the ready queue is all it takes: FIFO order
        // means every task ahead of us runs first.
        // No wait reason: a task that yielded is ready, not waiting, and the
        // dump's state column says so. (Recording "yield_now" here cost the
        // yield benchmark 6% more instructions per yield: 196 → 208 under
        // callgrind, `hot_paths yield`.)
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The runtime found that no task can ever run again (virtual time; see
/// `Core::deadlocked` for how it knows): panic with what every task waits
/// on, naming the caller's `block_on` or `run` (the panic itself is raised
/// inside the loop, so its location is this file's).
#[cold]
fn deadlock(core: &Core, caller: &Location<'_>) -> ! {
    let dump = core.dump();
    panic!(
        "deadlock in the runtime of block_on at {caller}: no task can ever run again. \
         Nothing is ready, no timer is pending, no task waits for I/O, no to_thread job \
         runs and no Handle is left for another thread to wake a task with.\n\
         {dump}\nawaited-by tree:\n{}",
        dump.tree()
    )
}
