//! The blocking pool: a few helper threads per runtime that run jobs which
//! would block the loop. `to_thread.rs` builds `to_thread` on it.
//!
//! Threads are started on demand, up to `min(32, cores + 4)` (see
//! [`max_threads`]), and leave after [`IDLE_TIMEOUT`] without work, so an
//! idle program holds no threads. A job cannot be interrupted. Jobs still
//! running when the runtime is dropped finish on their helper thread; the
//! runtime does not wait for them. The pool counts the jobs in flight, which
//! virtual time waits for before it jumps the clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

/// At most this many helper threads per runtime: the size CPython's default
/// executor uses (`min(32, os.cpu_count() + 4)`), since the jobs are the same
/// kind of blocking calls. Computed once per process, at the first job:
/// `available_parallelism` reads cgroup files on every call (about 30 µs on
/// Linux), which a runtime that never uses the pool should not pay.
fn max_threads() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        (cores + 4).min(32)
    })
}

/// An idle helper thread exits after this long, so an idle program holds no
/// threads; tokio's blocking pool uses the same keep-alive.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// A job for a helper thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// The per-runtime pool.
pub(crate) struct BlockingPool {
    /// The job queue and the thread counts, made at the first job: a
    /// runtime that never calls `to_thread` (most `spindle::run`s) does not
    /// pay for a channel it never uses.
    started: OnceLock<Started>,
    /// Jobs submitted and not yet finished (virtual time waits for these in
    /// real time before it jumps the clock).
    in_flight: AtomicUsize,
}

/// The pool once it has had a job.
struct Started {
    jobs: Sender<Job>,
    queue: Receiver<Job>,
    threads: AtomicUsize,
    idle: Arc<AtomicUsize>,
}

impl BlockingPool {
    pub(crate) fn new() -> BlockingPool {
        BlockingPool {
            started: OnceLock::new(),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// A job's last act: it no longer counts as in flight.
    pub(crate) fn job_done(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Queues `job` and starts a helper thread if none is idle and the
    /// pool is not full. The job counts as in flight until it calls
    /// [`job_done`](BlockingPool::job_done).
    pub(crate) fn submit(&self, job: Job) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let pool = self.started.get_or_init(|| {
            let (jobs, queue) = crossbeam_channel::unbounded();
            Started {
                jobs,
                queue,
                threads: AtomicUsize::new(0),
                idle: Arc::new(AtomicUsize::new(0)),
            }
        });
        pool.jobs
            .send(job)
            .expect("the pool holds its own receiver");
        if pool.idle.load(Ordering::Acquire) == 0
            && pool.threads.load(Ordering::Relaxed) < max_threads()
        {
            pool.threads.fetch_add(1, Ordering::Relaxed);
            let queue = pool.queue.clone();
            let idle = pool.idle.clone();
            thread::Builder::new()
                .name("spindle-to-thread".into())
                .spawn(move || helper(queue, idle))
                .expect("could not start a to_thread helper thread");
        }
    }
}

fn helper(queue: Receiver<Job>, idle: Arc<AtomicUsize>) {
    loop {
        idle.fetch_add(1, Ordering::AcqRel);
        let job = queue.recv_timeout(IDLE_TIMEOUT);
        idle.fetch_sub(1, Ordering::AcqRel);
        match job {
            Ok(job) => job(),
            Err(_) => return, // idle too long, or the runtime is gone
        }
    }
}
