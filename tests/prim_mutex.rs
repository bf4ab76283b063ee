//! `Mutex`: one holder at a time, the lock handed to the longest waiter on
//! unlock with no barging, cancellation that never keeps or loses the
//! lock, wakers that panic, real threads — and a property test of `Mutex`
//! and `Semaphore` (both are `permits.rs` underneath) against a sequential
//! model.

mod prim_util;
mod support;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use prim_util::{counting_waker, live_wakers, panic_message, panicking_waker, poll_once};
use spindle::{join_all, sleep, Mutex};
use support::{virtual_time, within};

#[test]
fn lock_on_a_free_mutex_is_ready_on_its_first_poll_and_wakes_nobody() {
    let mutex = Mutex::new(1);
    let (waker, wakes) = counting_waker();
    for _ in 0..3 {
        let Poll::Ready(mut guard) = poll_once(pin!(mutex.lock()), &waker) else {
            panic!("a free mutex must lock at once");
        };
        *guard += 1;
    }
    assert_eq!(wakes.count(), 0, "lock never yields by waking itself");
    assert_eq!(mutex.into_inner(), 4);
}

#[test]
fn the_guard_holds_the_lock_until_it_drops() {
    let mutex = Mutex::new(String::new());
    let mut guard = mutex.try_lock().unwrap();
    guard.push_str("held");
    assert!(mutex.try_lock().is_none(), "one holder at a time");
    let (waker, _) = counting_waker();
    assert!(poll_once(pin!(mutex.lock()), &waker).is_pending());
    drop(guard);
    assert_eq!(*mutex.try_lock().unwrap(), "held");
    assert_eq!(mutex.waiter_count(), 0, "the dropped lock() left the line");
}

#[test]
fn unlock_hands_the_lock_to_the_longest_waiter_whatever_order_they_are_polled_in() {
    let mutex = Mutex::new(Vec::new());
    let (waker, wakes) = counting_waker();
    let guard = mutex.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(mutex.lock())).collect();
    for waiter in &mut waiters {
        assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    }
    drop(guard);
    assert_eq!(wakes.count(), 1, "one unlock wakes one waiter");
    // Poll the youngest first: only the oldest holds the lock.
    assert!(poll_once(waiters[2].as_mut(), &waker).is_pending());
    assert!(poll_once(waiters[1].as_mut(), &waker).is_pending());
    let mut order = Vec::new();
    for i in 0..3 {
        let Poll::Ready(mut guard) = poll_once(waiters[i].as_mut(), &waker) else {
            panic!("waiter {i} should hold the lock now");
        };
        guard.push(i);
        order.push(i);
        // Every younger waiter is still waiting while `i` holds the lock.
        for younger in &mut waiters[i + 1..] {
            assert!(poll_once(younger.as_mut(), &waker).is_pending());
        }
    }
    assert_eq!(order, [0, 1, 2]);
    drop(waiters);
    assert_eq!(mutex.into_inner(), [0, 1, 2]);
}

#[test]
fn nobody_barges_in_while_anyone_waits_not_even_right_after_an_unlock() {
    let mutex = Mutex::new(());
    let (waker, _) = counting_waker();
    let guard = mutex.try_lock().unwrap();
    let mut waiter = pin!(mutex.lock());
    assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    drop(guard); // handed to `waiter`, which has not run yet
    assert!(
        mutex.try_lock().is_none(),
        "try_lock took a handed-over lock"
    );
    let mut late = pin!(mutex.lock());
    assert!(
        poll_once(late.as_mut(), &waker).is_pending(),
        "a new lock() overtook the waiter"
    );
    let held = poll_once(waiter.as_mut(), &waker);
    assert!(held.is_ready());
    drop(held);
    assert!(
        poll_once(late.as_mut(), &waker).is_ready(),
        "then the late one gets it"
    );
}

#[test]
fn a_lock_dropped_after_the_hand_off_passes_the_lock_to_the_next_waiter() {
    let mutex = Mutex::new(0);
    let (w1, wakes1) = counting_waker();
    let (w2, wakes2) = counting_waker();
    let guard = mutex.try_lock().unwrap();
    let mut first = Box::pin(async { *mutex.lock().await += 100 });
    let mut second = Box::pin(async { *mutex.lock().await += 1 });
    assert!(poll_once(first.as_mut(), &w1).is_pending());
    assert!(poll_once(second.as_mut(), &w2).is_pending());
    drop(guard);
    assert_eq!((wakes1.count(), wakes2.count()), (1, 0));
    drop(first); // woken with the lock in hand, never polled: cancelled
    assert_eq!(wakes2.count(), 1, "the next waiter is woken for the lock");
    assert!(poll_once(second.as_mut(), &w2).is_ready());
    assert_eq!(mutex.waiter_count(), 0);
    assert_eq!(
        *mutex.try_lock().unwrap(),
        1,
        "the dropped lock() ran nothing"
    );
}

#[test]
fn a_lock_dropped_after_the_hand_off_unlocks_when_nobody_else_waits() {
    let mutex = Mutex::new(());
    let (waker, _) = counting_waker();
    let guard = mutex.try_lock().unwrap();
    let mut waiter = Box::pin(mutex.lock());
    assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    drop(guard);
    assert!(mutex.try_lock().is_none(), "the lock is the waiter's");
    drop(waiter);
    assert!(mutex.try_lock().is_some(), "and free once it gave up");
}

#[test]
fn a_dropped_waiting_lock_leaves_nothing_behind() {
    let mutex = Mutex::new(());
    let (waker, wakes) = counting_waker();
    let guard = mutex.try_lock().unwrap();
    let mut waiter = Box::pin(mutex.lock());
    assert!(poll_once(waiter.as_mut(), &waker).is_pending());
    assert_eq!((mutex.waiter_count(), live_wakers(&wakes)), (1, 2));
    drop(waiter);
    assert_eq!((mutex.waiter_count(), live_wakers(&wakes)), (0, 1));
    drop(guard);
    assert!(mutex.try_lock().is_some(), "the unlock kept the lock free");
    assert_eq!(wakes.count(), 0);
}

#[test]
fn a_spurious_poll_keeps_a_waiter_in_line_with_its_newest_waker() {
    let mutex = Mutex::new(());
    let (old, old_wakes) = counting_waker();
    let (new, new_wakes) = counting_waker();
    let guard = mutex.try_lock().unwrap();
    let mut waiter = pin!(mutex.lock());
    assert!(poll_once(waiter.as_mut(), &old).is_pending());
    assert!(poll_once(waiter.as_mut(), &new).is_pending());
    drop(guard);
    assert_eq!((old_wakes.count(), new_wakes.count()), (0, 1));
    assert_eq!(
        live_wakers(&old_wakes),
        1,
        "only the test holds the old waker"
    );
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut mutex = Mutex::new(vec![1]);
    mutex.get_mut().push(2);
    assert_eq!(*mutex.try_lock().unwrap(), [1, 2]);
    assert_eq!(mutex.into_inner(), [1, 2]);
    assert_eq!(*Mutex::<u8>::default().try_lock().unwrap(), 0);
    assert_eq!(*Mutex::from('x').try_lock().unwrap(), 'x');
}

#[test]
fn debug_shows_the_data_or_that_it_is_locked() {
    let mutex = Mutex::new(5);
    assert_eq!(format!("{mutex:?}"), "Mutex { data: 5, .. }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked>, .. }");
    assert_eq!(format!("{guard:?} {guard}"), "5 5");
}

#[test]
fn a_lock_polled_after_it_returned_the_guard_panics() {
    let mutex = Mutex::new(());
    let (waker, _) = counting_waker();
    let mut lock = pin!(mutex.lock());
    let guard = poll_once(lock.as_mut(), &waker);
    assert!(guard.is_ready());
    let again = catch_unwind(AssertUnwindSafe(|| poll_once(lock.as_mut(), &waker)));
    assert!(again.is_err());
}

// ---- a waker that panics ----

#[test]
fn a_waiter_waker_that_panics_surfaces_from_the_unlock_that_handed_it_the_lock() {
    let mutex = Mutex::new(0);
    let (bad, bad_source) = panicking_waker("the waiter's waker panicked");
    let (good, _) = counting_waker();
    let guard = mutex.try_lock().unwrap();
    let mut waiter = Box::pin(mutex.lock());
    assert!(poll_once(waiter.as_mut(), &bad).is_pending());
    let payload =
        catch_unwind(AssertUnwindSafe(move || drop(guard))).expect_err("the panic surfaces");
    assert_eq!(
        panic_message(&*payload),
        Some("the waiter's waker panicked")
    );
    assert_eq!(bad_source.count(), 1);
    // The hand-off happened before the wake: the waiter holds the lock.
    assert!(mutex.try_lock().is_none());
    let Poll::Ready(mut held) = poll_once(waiter.as_mut(), &good) else {
        panic!("the lock was handed over before the waker panicked");
    };
    *held += 1;
    drop(held);
    drop(waiter);
    assert_eq!(
        live_wakers(&bad_source),
        1,
        "no waker clone leaked: only `bad`"
    );
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[test]
fn a_lock_dropped_by_a_panicking_task_passes_the_lock_on_even_if_that_wake_panics() {
    // The first waiter is dropped while its task unwinds, with the lock in
    // hand; the next waiter's waker panics too. A second panic escaping a
    // destructor during unwinding would abort: it is woken, and the panic
    // under way is the one that surfaces.
    let mutex = Mutex::new(());
    let (good, _) = counting_waker();
    let (bad, bad_source) = panicking_waker("the next waiter's waker panicked");
    let guard = mutex.try_lock().unwrap();
    let mut first = Box::pin(mutex.lock());
    let mut second = Box::pin(mutex.lock());
    assert!(poll_once(first.as_mut(), &good).is_pending());
    assert!(poll_once(second.as_mut(), &bad).is_pending());
    drop(guard); // handed to `first`
    let payload = catch_unwind(AssertUnwindSafe(move || {
        let _first = first;
        panic!("the task holding the first waiter panicked");
    }))
    .unwrap_err();
    assert_eq!(
        panic_message(&*payload),
        Some("the task holding the first waiter panicked")
    );
    assert_eq!(bad_source.count(), 1, "the next waiter was woken");
    assert!(poll_once(second.as_mut(), &bad).is_ready());
}

// ---- tasks, threads ----

#[test]
fn a_guard_held_across_an_await_serialises_the_critical_sections() {
    // 10_lock_semaphore's first half: five deposits read the balance,
    // sleep 0.1 s inside the critical section, then write it back. Without
    // the lock they would all read 0.
    virtual_time(async {
        let balance = Mutex::new(0);
        let started = spindle::time::now();
        let deposit = |amount| {
            let balance = &balance;
            async move {
                let mut guard = balance.lock().await;
                let current = *guard;
                sleep(Duration::from_millis(100)).await;
                *guard = current + amount;
            }
        };
        join_all((0..5).map(|_| deposit(10))).await;
        assert_eq!(*balance.lock().await, 50);
        assert_eq!(spindle::time::now() - started, Duration::from_millis(500));
    });
}

#[test]
fn threads_with_their_own_executors_share_one_mutex() {
    within(Duration::from_secs(60), || {
        let mutex = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let mutex = mutex.clone();
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        futures_executor::block_on(async {
                            let mut guard = mutex.lock().await;
                            let seen = *guard;
                            std::thread::yield_now(); // let others pile up
                            *guard = seen + 1;
                        });
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*mutex.try_lock().unwrap(), 8_000, "no update lost");
        assert_eq!(mutex.waiter_count(), 0);
    });
}

#[test]
fn spindle_runtimes_on_two_threads_share_one_mutex() {
    within(Duration::from_secs(60), || {
        let mutex = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let mutex = mutex.clone();
                std::thread::spawn(move || {
                    spindle::run(async move {
                        let tasks: Vec<_> = (0..10)
                            .map(|i| {
                                let mutex = mutex.clone();
                                spindle::spawn(async move {
                                    for _ in 0..50 {
                                        let mut guard = mutex.lock().await;
                                        guard.push((t, i));
                                        spindle::yield_now().await; // held across a turn
                                    }
                                })
                            })
                            .collect();
                        for task in tasks {
                            task.await.unwrap();
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let log = mutex.try_lock().unwrap();
        assert_eq!(log.len(), 2 * 10 * 50);
    });
}

// ---- the model test ----

mod model {
    //! A property test of the permit protocol against a plain model: random
    //! sequences of lock/acquire (ready or parked), `try_lock`, unlocks,
    //! re-polls, cancellations at any point (including after a hand-off)
    //! and, for a semaphore, `add_permits`. The model is the contract in the
    //! simplest code: free permits go to nobody while anyone waits; a
    //! released permit goes to the oldest waiter, which owns it from then on
    //! and is woken exactly once; a waiter dropped with a permit in hand
    //! passes it to the next waiter or frees it. Every step compares
    //! results, `available_permits`, the parked count and the wakes; the
    //! mutex's data counts the acquisitions.

    use super::*;
    use proptest::prelude::*;
    use spindle::Semaphore;
    use std::collections::{HashSet, VecDeque};

    /// A guard, whichever primitive it came from.
    trait Held {}
    impl<T> Held for spindle::MutexGuard<'_, T> {}
    impl Held for spindle::SemaphorePermit<'_> {}

    type Guard<'a> = Box<dyn Held + 'a>;
    type Fut<'a> = Pin<Box<dyn Future<Output = Guard<'a>> + 'a>>;

    /// `Mutex` and `Semaphore` behind one face.
    trait Permits {
        fn acquire(&self) -> Fut<'_>;
        fn try_acquire(&self) -> Option<Guard<'_>>;
        /// `None` where the primitive cannot tell (a mutex).
        fn available(&self) -> Option<usize>;
        /// `false` where the primitive cannot (a mutex).
        fn add(&self, n: usize) -> bool;
        fn waiters(&self) -> usize;
    }

    impl Permits for Mutex<u64> {
        fn acquire(&self) -> Fut<'_> {
            Box::pin(async {
                let mut guard = self.lock().await;
                *guard += 1; // counts the acquisitions
                Box::new(guard) as Guard<'_>
            })
        }
        fn try_acquire(&self) -> Option<Guard<'_>> {
            self.try_lock().map(|mut guard| {
                *guard += 1;
                Box::new(guard) as Guard<'_>
            })
        }
        fn available(&self) -> Option<usize> {
            None
        }
        fn add(&self, _: usize) -> bool {
            false
        }
        fn waiters(&self) -> usize {
            self.waiter_count()
        }
    }

    impl Permits for Semaphore {
        fn acquire(&self) -> Fut<'_> {
            Box::pin(async { Box::new(Semaphore::acquire(self).await) as Guard<'_> })
        }
        fn try_acquire(&self) -> Option<Guard<'_>> {
            Semaphore::try_acquire(self).map(|permit| Box::new(permit) as Guard<'_>)
        }
        fn available(&self) -> Option<usize> {
            Some(self.available_permits())
        }
        fn add(&self, n: usize) -> bool {
            self.add_permits(n);
            true
        }
        fn waiters(&self) -> usize {
            self.waiter_count()
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Acquire,
        TryAcquire,
        Release(usize),
        Poll(usize),
        Drop(usize),
        /// Drop one of the waiters that were handed a permit.
        DropGranted(usize),
        Add(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => Just(Op::Acquire),
            2 => Just(Op::TryAcquire),
            4 => any::<usize>().prop_map(Op::Release),
            3 => any::<usize>().prop_map(Op::Poll),
            2 => any::<usize>().prop_map(Op::Drop),
            2 => any::<usize>().prop_map(Op::DropGranted),
            1 => (0usize..3).prop_map(Op::Add),
        ]
    }

    /// The contract, executed naively. Waiter ids are shared with the test.
    #[derive(Default)]
    struct Model {
        free: usize,
        /// Parked waiters, oldest first.
        queue: VecDeque<u64>,
        /// Waiters handed a permit, not polled since.
        granted: Vec<u64>,
        /// Waiters released (so woken exactly once).
        woken: HashSet<u64>,
        acquisitions: u64,
    }

    impl Model {
        fn can_take(&self) -> bool {
            self.free > 0 && self.queue.is_empty()
        }
        /// A permit comes back (or is added): the oldest waiter gets it.
        fn release(&mut self) {
            match self.queue.pop_front() {
                Some(id) => {
                    self.granted.push(id);
                    self.woken.insert(id);
                }
                None => self.free += 1,
            }
        }
    }

    struct Pending<'a> {
        id: u64,
        fut: Fut<'a>,
        waker: std::task::Waker,
        wakes: Arc<prim_util::WakeCounter>,
    }

    fn run<P: Permits>(p: &P, permits: usize, ops: Vec<Op>) -> Result<u64, TestCaseError> {
        let mut m = Model {
            free: permits,
            ..Model::default()
        };
        let mut held: Vec<Guard<'_>> = Vec::new();
        let mut pending: Vec<Pending<'_>> = Vec::new();
        let mut next_id = 0;
        for op in ops {
            match op {
                Op::Acquire => {
                    next_id += 1;
                    let (waker, wakes) = counting_waker();
                    let mut fut = p.acquire();
                    let got = poll_once(fut.as_mut(), &waker);
                    if m.can_take() {
                        m.free -= 1;
                        m.acquisitions += 1;
                        let Poll::Ready(guard) = got else {
                            return Err(TestCaseError::fail("a free permit must be taken at once"));
                        };
                        held.push(guard);
                    } else {
                        prop_assert!(got.is_pending(), "took a permit that was not free");
                        m.queue.push_back(next_id);
                        pending.push(Pending {
                            id: next_id,
                            fut,
                            waker,
                            wakes,
                        });
                    }
                }
                Op::TryAcquire => {
                    let got = p.try_acquire();
                    prop_assert_eq!(got.is_some(), m.can_take(), "try_acquire");
                    if let Some(guard) = got {
                        m.free -= 1;
                        m.acquisitions += 1;
                        held.push(guard);
                    }
                }
                Op::Release(i) if !held.is_empty() => {
                    drop(held.remove(i % held.len()));
                    m.release();
                }
                Op::Poll(i) if !pending.is_empty() => {
                    let i = i % pending.len();
                    let w = &mut pending[i];
                    let got = poll_once(w.fut.as_mut(), &w.waker);
                    match m.granted.iter().position(|&id| id == w.id) {
                        Some(at) => {
                            m.granted.remove(at);
                            m.acquisitions += 1;
                            let Poll::Ready(guard) = got else {
                                return Err(TestCaseError::fail("a granted waiter must be ready"));
                            };
                            held.push(guard);
                            check_woken(&pending.remove(i), &m)?;
                        }
                        None => prop_assert!(got.is_pending(), "a waiter in line took a permit"),
                    }
                }
                Op::Drop(i) if !pending.is_empty() => {
                    let w = pending.remove(i % pending.len());
                    let id = w.id;
                    drop(w);
                    cancel(&mut m, id);
                }
                Op::DropGranted(i) if !m.granted.is_empty() => {
                    let id = m.granted[i % m.granted.len()];
                    let at = pending.iter().position(|w| w.id == id).unwrap();
                    drop(pending.remove(at));
                    cancel(&mut m, id);
                }
                // `add` is `false` for a mutex, which cannot add permits.
                Op::Add(n) if p.add(n) => {
                    for _ in 0..n {
                        m.release();
                    }
                }
                _ => {} // an op on an empty list
            }
            // After every step: the observable state matches the model...
            if let Some(available) = p.available() {
                let expected = if m.queue.is_empty() { m.free } else { 0 };
                prop_assert_eq!(available, expected, "available_permits");
            }
            prop_assert_eq!(p.waiters(), m.queue.len(), "parked waiters");
            // ...and exactly the released waiters have been woken, once.
            for w in &pending {
                check_woken(w, &m)?;
            }
        }
        // Cancel and release everything: every permit comes back.
        for w in pending.drain(..) {
            let id = w.id;
            drop(w);
            cancel(&mut m, id);
        }
        for guard in held.drain(..) {
            drop(guard);
            m.release();
        }
        prop_assert_eq!(p.waiters(), 0, "cancelled waiters left entries behind");
        prop_assert!(m.queue.is_empty() && m.granted.is_empty());
        if let Some(available) = p.available() {
            prop_assert_eq!(available, m.free);
        }
        Ok(m.acquisitions)
    }

    /// A waiter dropped: it leaves the line, or passes its permit on.
    fn cancel(m: &mut Model, id: u64) {
        if let Some(at) = m.queue.iter().position(|&w| w == id) {
            m.queue.remove(at);
        } else if let Some(at) = m.granted.iter().position(|&w| w == id) {
            m.granted.remove(at);
            m.release();
        }
    }

    fn check_woken(w: &Pending<'_>, m: &Model) -> Result<(), TestCaseError> {
        let expected = usize::from(m.woken.contains(&w.id));
        prop_assert_eq!(w.wakes.count(), expected, "waiter {} woken wrongly", w.id);
        Ok(())
    }

    proptest! {
        // No regressions file written into the work tree (see prim_queue.rs).
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        #[test]
        fn mutex_matches_a_sequential_model(ops in proptest::collection::vec(op(), 0..80)) {
            let mutex = Mutex::new(0u64);
            let acquisitions = run(&mutex, 1, ops)?;
            // Every acquisition, and only those, ran its increment.
            prop_assert_eq!(*mutex.try_lock().unwrap(), acquisitions);
        }

        #[test]
        fn semaphore_matches_a_sequential_model(
            permits in 0usize..4,
            ops in proptest::collection::vec(op(), 0..80),
        ) {
            let semaphore = Semaphore::new(permits);
            run(&semaphore, permits, ops)?;
        }
    }
}
