//! The timer driver: the [`Wheel`] for coarse, O(1) bookkeeping, plus exact
//! deadlines beside it. This is where the loop's step 3, "fire expired
//! timers", happens.
//!
//! # Exact deadlines on a wheel
//!
//! A wheel bucket spans a tick (1 ms). tokio rounds every deadline *up* to
//! the next tick, so a timer can fire almost a tick late, and never early.
//! spindle keeps O(1) buckets *and* exact deadlines:
//!
//! 1. An entry goes into the slot of the tick its deadline falls in
//!    (`clock::tick_of`: rounded *down*), with its exact deadline (in
//!    nanoseconds since the driver's origin) and a sequence number.
//! 2. When that tick comes due, the wheel hands the entry's record back and
//!    it moves into `due`, a `Vec` sorted by (exact deadline, sequence
//!    number), earliest last. Only the records of the current tick or two
//!    live there. The wheel carries the whole record — deadline, sequence
//!    number, key — so handing a tick's entries over touches the wheel's
//!    nodes alone, never the entries themselves; and a tick's records are
//!    sorted once, when they arrive (one `sort` that also merges them with
//!    the records left over), rather than pushed through a heap one by one
//!    (`benches/compare/NOTES.md` has the measurements).
//! 3. An entry fires when its exact deadline is not after `now`. The reactor
//!    is asked to wake at the earliest exact deadline in `due`, or at the
//!    start of the next occupied wheel slot, whichever comes first — the
//!    `polling` crate arms a timerfd on Linux, so sub-millisecond waits work.
//!
//! A far deadline sits in a higher wheel level first, and the loop also
//! wakes at the start of each slot it passes through on the way down (a
//! cascade): a 1 s sleep typically costs two or three reactor waits instead
//! of one. That is the price of O(1) insertion without a sorted structure;
//! each wait is exact, so it costs syscalls, not lateness.
//!
//! So a timer never fires early (the exact comparison is the last word), and
//! FIFO holds among equal deadlines (the sequence number breaks ties). Under
//! a seed (`Builder::seed`) the sequence number is drawn at random instead,
//! so equal deadlines fire in a seeded order.
//!
//! # Cancelling in O(1)
//!
//! Most timers are cancelled, not fired: a `timeout` whose future wins, a
//! `Sleep` dropped by a `select`. Entries live in a generational slab
//! (`slab.rs`); a [`TimerKey`] names one. Cancelling an entry still in the
//! wheel unlinks it there in O(1); one already in `due` is just removed from
//! the slab, and `due` drops its stale record when it reaches the end (a
//! lazy deletion). An entry keeps its wheel key after the wheel has handed
//! it out: that key is stale by then, so the wheel's `remove` answers
//! `None` and nobody needs to be told the entry has moved.
//!
//! The driver never sees a task: an entry's action is a `Waker` to wake or a
//! callback to run, and both are carried out by the executor after the
//! driver's `RefCell` borrow ends ([`Fired`]).

use std::panic::Location;
use std::task::Waker;
use std::time::Instant;

use super::clock::{nanos_since, tick_of, tick_start};
use super::wheel::Wheel;
use crate::rng::SplitMix64;
use crate::slab::{Key, Slab};

/// What to do when a timer fires.
pub(crate) enum Action {
    /// Wake a task (a `Sleep`).
    Wake(Waker),
    /// Run a callback (`call_soon`/`call_later`/`call_at`), remembering where
    /// it was scheduled for the error report.
    Call(Box<dyn FnOnce()>, &'static Location<'static>),
}

/// A timer taken out of the driver, to be carried out by the executor
/// (`Core::fire_timers`).
pub(crate) struct Fired {
    pub(crate) action: Action,
    pub(crate) deadline: Instant,
}

/// Names one timer entry; stale keys (fired, cancelled) are detected by the
/// slab's generation, so a `TimerHandle` can outlive its entry safely.
///
/// A newtype rather than the slab's [`Key`] itself, so that the driver's keys
/// and the wheel's, both slab keys, cannot be mixed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey(Key);

/// One pending timer, as the driver keeps it in its slab.
struct TimerEntry {
    /// The exact deadline (also in the entry's [`Due`] record; kept here for
    /// `cancel`, which reports it).
    deadline: Instant,
    /// What to do when the timer fires.
    action: Action,
    /// The entry's key in the wheel. Stale once the wheel has handed the
    /// entry to `due`, and then the wheel's `remove` ignores it.
    in_wheel: Key,
}

/// A timer's record, carried by the wheel and then kept in `due`, which
/// orders by deadline, then `seq`. It is stale once `key` no longer names a
/// pending entry (cancelled or reset while due), and is dropped when it
/// reaches the end of `due`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    /// The entry's exact deadline as nanoseconds since the driver's origin
    /// (`clock::nanos_since`), compared first: one `u64`, which makes the
    /// sort of a tick's records cheap.
    at: u64,
    /// The entry's insertion number, unique per driver: breaks ties between
    /// equal deadlines so that they fire first in, first out. Unique, so the
    /// order never reaches `key` (under a seed, a random number: two equal ones, a 2⁻⁶⁴ chance,
    /// fall back on `key`, still the same order on every run).
    seq: u64,
    /// The entry this record stands for.
    key: TimerKey,
}

/// The timer driver: the wheel, the `due` records, and the entries they name.
pub(crate) struct Timers {
    /// The instant of tick 0 and of `Due::at` 0.
    origin: Instant,
    /// Every entry whose tick has not come yet, by the tick its deadline
    /// falls in, carrying the entry's record.
    wheel: Wheel<Due>,
    /// Records of entries whose tick has come, waiting for their exact
    /// deadline, sorted by (deadline, seq) from last to first: the next to
    /// fire is at the end. May hold stale records (lazy deletion).
    due: Vec<Due>,
    /// Where `advance` collects the records the wheel hands out before they
    /// join `due`; empty between calls, kept to reuse its allocation.
    arrived: Vec<Due>,
    /// The latest `now` that `advance` or `pop_expired` was given, and it in
    /// nanoseconds since the origin: the executor pops every timer of a turn
    /// with the same `now`, which is then converted once.
    now: (Instant, u64),
    /// Every pending entry, in the wheel or in `due`.
    entries: Slab<TimerEntry>,
    /// The `seq` of the next insert.
    next_seq: u64,
    /// Under a seed (`Builder::seed`), `seq` is drawn from here instead of
    /// counted, so entries with equal deadlines fire in a seeded order.
    rng: Option<SplitMix64>,
}

impl Timers {
    /// An empty driver; with a `seed`, equal deadlines fire in an order
    /// drawn from it rather than first in, first out.
    pub(crate) fn new(origin: Instant, seed: Option<u64>) -> Timers {
        Timers {
            origin,
            wheel: Wheel::new(),
            due: Vec::new(),
            arrived: Vec::new(),
            now: (origin, 0),
            entries: Slab::new(),
            next_seq: 0,
            // A stream of its own (the seed scrambled once), so drawing a
            // task in the executor does not shift the timers' draws.
            rng: seed.map(|seed| SplitMix64::new(SplitMix64::new(seed).next_u64())),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds a timer for `deadline` and returns its key.
    ///
    /// # Panics
    ///
    /// With more than 2^32 timers pending at once.
    pub(crate) fn insert(&mut self, deadline: Instant, action: Action) -> TimerKey {
        let seq = match &mut self.rng {
            Some(rng) => rng.next_u64(),
            None => {
                self.next_seq += 1;
                self.next_seq - 1
            }
        };
        // The wheel carries the entry's key, so the key comes first.
        let key = TimerKey(
            self.entries
                .vacant_key()
                .expect("more than 2^32 timers at once"),
        );
        let at = nanos_since(self.origin, deadline);
        let in_wheel = self.wheel.insert(tick_of(at), Due { at, seq, key });
        let inserted = self.entries.insert(TimerEntry {
            deadline,
            action,
            in_wheel,
        });
        debug_assert_eq!(inserted, key.0, "vacant_key did not predict the key");
        key
    }

    /// Whether `key` names an entry that has neither fired nor been cancelled.
    pub(crate) fn is_pending(&self, key: TimerKey) -> bool {
        self.entries.contains(key.0)
    }

    /// Replaces the waker of a pending `Wake` entry if it would wake another task.
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) {
        if let Some(TimerEntry {
            action: Action::Wake(current),
            ..
        }) = self.entries.get_mut(key.0)
        {
            if !current.will_wake(waker) {
                current.clone_from(waker);
            }
        }
    }

    /// Removes a pending entry and returns its action, for the caller to drop
    /// once its borrow of the driver has ended (a callback's captures may run
    /// arbitrary code when dropped). `None` if it already fired or was
    /// cancelled.
    pub(crate) fn cancel(&mut self, key: TimerKey) -> Option<(Action, Instant)> {
        let entry = self.entries.remove(key.0)?;
        // `None` if the wheel already handed the entry to `due`, whose
        // record is now stale.
        let removed = self.wheel.remove(entry.in_wheel);
        debug_assert!(
            removed.map_or(true, |record| record.key == key),
            "wheel and slab disagree about a timer"
        );
        Some((entry.action, entry.deadline))
    }

    /// Moves a pending entry to a new deadline, keeping its action; returns
    /// its new key (the old one goes stale), or `None` if it is not pending.
    pub(crate) fn reset(&mut self, key: TimerKey, deadline: Instant) -> Option<TimerKey> {
        let (action, _) = self.cancel(key)?;
        Some(self.insert(deadline, action))
    }

    /// The instant the loop should wake up at for the next timer: the
    /// earliest exact deadline among due entries, or the start of the next
    /// wheel slot that has work, whichever is earlier.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.drop_stale_due();
        let due = self.due.last().map(|due| self.instant(due.at));
        let wheel = self
            .wheel
            .next_expiration()
            .and_then(|tick| tick_start(self.origin, tick));
        match (due, wheel) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// `now` in nanoseconds since the origin, converted only when it is not
    /// the `now` of the last call.
    fn now_nanos(&mut self, now: Instant) -> u64 {
        if now != self.now.0 {
            self.now = (now, nanos_since(self.origin, now));
        }
        self.now.1
    }

    /// The instant `at` nanoseconds after the origin. Exact for every
    /// deadline at or after the origin; one before it comes back as the
    /// origin, a moment that has passed as well.
    fn instant(&self, at: u64) -> Instant {
        self.origin + std::time::Duration::from_nanos(at)
    }

    /// Moves the records of every wheel slot that has come due at `now`
    /// into `due`, where they wait for their exact deadline.
    pub(crate) fn advance(&mut self, now: Instant) {
        let now = self.now_nanos(now);
        let Timers { wheel, arrived, .. } = self;
        wheel.advance(tick_of(now), |_, record| {
            arrived.push(record);
        });
        if !self.arrived.is_empty() {
            // Latest first, so the next to fire pops off the end. Records
            // left from an earlier tick are few (those of the current tick
            // not yet due), so sorting them again with the arrivals costs
            // next to nothing; the arrivals, a tick's worth, are sorted in
            // one pass instead of a heap push and pop each.
            self.due.append(&mut self.arrived);
            self.due.sort_unstable_by(|a, b| b.cmp(a));
        }
    }

    /// Takes the next entry whose exact deadline is not after `now`, in
    /// (deadline, insertion) order. The executor takes them one at a time
    /// and carries each out before asking for the next, so a callback that
    /// cancels a later timer due at the same moment is honoured.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Fired> {
        self.drop_stale_due();
        if self.due.last()?.at > self.now_nanos(now) {
            return None;
        }
        let top = self.due.pop().expect("looked at");
        let entry = self
            .entries
            .remove(top.key.0)
            .expect("drop_stale_due left a live top");
        debug_assert!(entry.deadline <= now, "a timer is about to fire early");
        Some(Fired {
            action: entry.action,
            deadline: entry.deadline,
        })
    }

    /// Pops the records of entries that were cancelled or reset off the end
    /// of `due`.
    fn drop_stale_due(&mut self) {
        while let Some(top) = self.due.last() {
            if self.is_pending(top.key) {
                return;
            }
            self.due.pop();
        }
    }

    /// Removes every entry (runtime shutdown) and returns their actions for
    /// the caller to drop.
    pub(crate) fn clear(&mut self) -> Vec<Action> {
        if self.entries.is_empty() {
            // Nothing to drop, and rebuilding the wheel (a few KiB) would be
            // most of what a short `spindle::run` costs.
            return Vec::new();
        }
        let mut old = std::mem::replace(self, Timers::new(self.origin, None));
        self.rng = old.rng.take();
        old.entries
            .into_values()
            .map(|entry| entry.action)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn noop() -> Action {
        Action::Call(Box::new(|| {}), Location::caller())
    }

    fn expire(timers: &mut Timers, now: Instant) -> Vec<Fired> {
        timers.advance(now);
        std::iter::from_fn(|| timers.pop_expired(now)).collect()
    }

    fn fire(timers: &mut Timers, now: Instant) -> Vec<Instant> {
        expire(timers, now)
            .into_iter()
            .map(|f| f.deadline)
            .collect()
    }

    #[test]
    fn fires_on_the_exact_deadline_not_the_tick() {
        let origin = Instant::now();
        let mut timers = Timers::new(origin, None);
        let deadline = origin + Duration::from_micros(1_700);
        timers.insert(deadline, noop());
        // In the right tick but before the deadline: nothing.
        assert!(fire(&mut timers, origin + Duration::from_micros(1_699)).is_empty());
        assert_eq!(
            timers.next_deadline(),
            Some(deadline),
            "the wake-up is the exact deadline"
        );
        assert_eq!(fire(&mut timers, deadline), vec![deadline]);
        assert!(timers.is_empty());
    }

    /// The order in which five callbacks, all due at one instant, fire.
    fn equal_deadline_order(seed: Option<u64>) -> Vec<i32> {
        let origin = Instant::now();
        let mut timers = Timers::new(origin, seed);
        let deadline = origin + Duration::from_millis(70);
        let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        for i in 0..5 {
            let order = order.clone();
            timers.insert(
                deadline,
                Action::Call(
                    Box::new(move || order.borrow_mut().push(i)),
                    Location::caller(),
                ),
            );
            // Advance in between so later entries land at other wheel levels.
            fire(&mut timers, origin + Duration::from_millis(10 * i as u64));
        }
        for f in expire(&mut timers, deadline) {
            if let Action::Call(callback, _) = f.action {
                callback();
            }
        }
        let fired = order.borrow().clone();
        fired
    }

    #[test]
    fn equal_deadlines_fire_in_insertion_order() {
        assert_eq!(equal_deadline_order(None), vec![0, 1, 2, 3, 4]);
    }

    /// Under a seed: each seed gives one order, always the same, and the
    /// seeds between them reach orders other than FIFO.
    #[test]
    fn equal_deadlines_fire_in_a_seeded_order() {
        let mut orders = std::collections::BTreeSet::new();
        for seed in 0..50 {
            let order = equal_deadline_order(Some(seed));
            assert_eq!(order, equal_deadline_order(Some(seed)), "seed {seed}");
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, vec![0, 1, 2, 3, 4], "every timer fired once");
            orders.insert(order);
        }
        assert!(orders.len() > 20, "50 seeds reached only {orders:?}");
    }

    #[test]
    fn cancel_and_reset_leave_no_stale_fire() {
        let origin = Instant::now();
        let mut timers = Timers::new(origin, None);
        let a = timers.insert(origin + Duration::from_millis(5), noop());
        let b = timers.insert(origin + Duration::from_millis(5), noop());
        assert!(timers.cancel(a).is_some());
        assert!(timers.cancel(a).is_none(), "second cancel is a no-op");
        let b2 = timers.reset(b, origin + Duration::from_millis(9)).unwrap();
        assert!(!timers.is_pending(b));
        assert!(fire(&mut timers, origin + Duration::from_millis(8)).is_empty());
        assert_eq!(
            fire(&mut timers, origin + Duration::from_millis(9)).len(),
            1
        );
        assert!(!timers.is_pending(b2));
        assert!(timers.is_empty());
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn a_stale_key_cannot_cancel_the_timer_that_reuses_its_slot() {
        let origin = Instant::now();
        let mut timers = Timers::new(origin, None);
        let fired = timers.insert(origin + Duration::from_millis(1), noop());
        assert_eq!(
            fire(&mut timers, origin + Duration::from_millis(1)).len(),
            1
        );
        let cancelled = timers.insert(origin + Duration::from_millis(2), noop());
        assert!(timers.cancel(cancelled).is_some());
        let live = timers.insert(origin + Duration::from_millis(3), noop());
        assert_eq!(live.0.index(), fired.0.index(), "the slot is reused");
        for stale in [fired, cancelled] {
            assert!(!timers.is_pending(stale));
            assert!(timers.cancel(stale).is_none());
        }
        assert!(timers.is_pending(live));
        assert_eq!(
            fire(&mut timers, origin + Duration::from_millis(3)).len(),
            1
        );
    }

    /// One step of the model test below.
    #[derive(Clone, Debug)]
    enum Op {
        /// A timer `micros` after the current time (several land on one
        /// instant: the values are coarse on purpose).
        Insert(u64),
        /// Cancels the `n`-th timer ever inserted, pending or not.
        Cancel(usize),
        /// Moves the `n`-th timer to `micros` after the current time.
        Reset(usize, u64),
        /// Moves time forward by `micros` and fires what is due.
        Advance(u64),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let micros = prop_oneof![
            (0u64..5).prop_map(|n| n * 250), // within a tick or two, equal often
            1u64..3,                         // a microsecond or two: just short of a deadline
            (0u64..200).prop_map(|n| n * 1_000), // whole ticks, up to 200 ms
            0u64..5_000_000,                 // anywhere, cascading levels
        ];
        prop_oneof![
            4 => micros.clone().prop_map(Op::Insert),
            1 => (0usize..64).prop_map(Op::Cancel),
            1 => ((0usize..64), micros.clone()).prop_map(|(n, m)| Op::Reset(n, m)),
            3 => micros.prop_map(Op::Advance),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The driver against a model (a list of pending (deadline, order)
        /// pairs): every advance fires exactly the pending timers whose
        /// deadline has come, in (deadline, insertion) order, none early;
        /// cancelled and reset-away timers never fire; and the wake-up the
        /// driver asks for is never after the earliest pending deadline.
        #[test]
        #[cfg_attr(miri, ignore)]
        fn fires_like_a_sorted_model(ops in proptest::collection::vec(op(), 1..150)) {
            let origin = Instant::now();
            let mut timers = Timers::new(origin, None);
            let mut now = origin;
            // Per timer ever inserted (its label is its index): its current key.
            let mut keys: Vec<TimerKey> = Vec::new();
            // The labels of the timers whose callbacks ran, in firing order.
            let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            let logging = |label: usize| {
                let log = log.clone();
                Action::Call(Box::new(move || log.borrow_mut().push(label)), Location::caller())
            };
            // The model: label -> (deadline, insertion order), pending only.
            let mut model: std::collections::BTreeMap<usize, (Instant, u64)> = Default::default();
            let mut order = 0u64;
            for op in ops {
                match op {
                    Op::Insert(micros) => {
                        let deadline = now + Duration::from_micros(micros);
                        let label = keys.len();
                        keys.push(timers.insert(deadline, logging(label)));
                        model.insert(label, (deadline, order));
                        order += 1;
                    }
                    Op::Cancel(n) if n < keys.len() => {
                        let cancelled = timers.cancel(keys[n]).is_some();
                        proptest::prop_assert_eq!(cancelled, model.remove(&n).is_some());
                    }
                    Op::Reset(n, micros) if n < keys.len() => {
                        let deadline = now + Duration::from_micros(micros);
                        match timers.reset(keys[n], deadline) {
                            Some(key) => {
                                proptest::prop_assert!(model.contains_key(&n));
                                keys[n] = key;
                                // A reset is a new insertion: it queues behind equal deadlines.
                                model.insert(n, (deadline, order));
                                order += 1;
                            }
                            None => proptest::prop_assert!(!model.contains_key(&n)),
                        }
                    }
                    Op::Cancel(_) | Op::Reset(..) => {}
                    Op::Advance(micros) => {
                        now += Duration::from_micros(micros);
                        for fired in expire(&mut timers, now) {
                            proptest::prop_assert!(fired.deadline <= now, "fired early");
                            if let Action::Call(callback, _) = fired.action {
                                callback();
                            }
                        }
                        let fired: Vec<usize> = log.borrow_mut().drain(..).collect();
                        let mut due: Vec<(Instant, u64, usize)> = model
                            .iter()
                            .filter(|(_, &(deadline, _))| deadline <= now)
                            .map(|(&label, &(deadline, order))| (deadline, order, label))
                            .collect();
                        due.sort();
                        let expected: Vec<usize> = due.iter().map(|&(.., label)| label).collect();
                        proptest::prop_assert_eq!(&fired, &expected);
                        for (_, _, label) in due {
                            model.remove(&label);
                        }
                    }
                }
                if let Some(earliest) = model.values().map(|&(deadline, _)| deadline).min() {
                    let wake = timers.next_deadline();
                    proptest::prop_assert!(wake.is_some_and(|wake| wake <= earliest), "wake-up {:?} after the earliest deadline {:?}", wake, earliest);
                } else {
                    proptest::prop_assert!(timers.is_empty());
                }
            }
        }
    }
}
