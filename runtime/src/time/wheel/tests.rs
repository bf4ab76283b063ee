//! Tests of the timing wheel: the slot arithmetic at every boundary, worked
//! examples, and a property test against a sorted map as the model.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// 64^6: the first tick the wheel proper cannot reach from tick 0.
const SPAN: u64 = 1 << 36;

/// Advances `wheel` to `now` and returns what came out, as `(when, value)` in
/// order given.
fn advance(wheel: &mut Wheel<u64>, now: u64) -> Vec<(u64, u64)> {
    let mut fired = Vec::new();
    wheel.advance(now, |when, value| fired.push((when, value)));
    fired
}

/// Walks every list and checks the ground rules: each live entry is on the
/// list that `location_for` chooses, links are consistent both ways, bitmaps
/// match the slots, and the lists together hold exactly `len` entries.
fn assert_invariants<T>(wheel: &Wheel<T>) {
    let mut heads = vec![
        (Location::Due, wheel.due),
        (Location::Overflow, wheel.overflow),
    ];
    for (level, slots) in wheel.levels.iter().enumerate() {
        for (slot, &head) in slots.slots.iter().enumerate() {
            let bit = slots.occupied & (1 << slot) != 0;
            assert_eq!(
                bit,
                head.is_some(),
                "bitmap of level {level} slot {slot} is wrong"
            );
            heads.push((
                Location::Slot {
                    level: level as u8,
                    slot: slot as u8,
                },
                head,
            ));
        }
    }
    let mut seen = 0;
    for (location, head) in heads {
        let (mut prev, mut cursor) = (None, head);
        while let Some(index) = cursor {
            // Indexing panics if the node is not in the slab.
            let node = &wheel.nodes[index];
            assert_eq!(
                node.location, location,
                "node {index} does not know its list"
            );
            assert_eq!(node.prev, prev, "node {index} has a wrong back link");
            assert_eq!(
                wheel.location_for(node.when),
                location,
                "node {index} is misfiled"
            );
            if location == Location::Due {
                assert!(wheel.due_min <= node.when, "due_min is above a due entry");
            }
            seen += 1;
            (prev, cursor) = (Some(index), node.next);
        }
    }
    assert_eq!(
        seen,
        wheel.len(),
        "the lists do not hold exactly len entries"
    );
}

#[test]
fn level_for_boundaries() {
    // From tick 0, the level is the digit of `when`'s highest set bit.
    let cases = [
        (0, 0),
        (1, 0),
        (63, 0),
        (64, 1),
        (4095, 1),
        (4096, 2),
        ((1 << 18) - 1, 2),
        (1 << 18, 3),
        ((1 << 24) - 1, 3),
        (1 << 24, 4),
        ((1 << 30) - 1, 4),
        (1 << 30, 5),
        (SPAN - 1, 5),
        (SPAN, 6),
        (1 << 42, 7),
        (1 << 62, 10),
        (u64::MAX, 10),
    ];
    for (when, level) in cases {
        assert_eq!(level_for(0, when), level, "level_for(0, {when})");
    }
    // The level depends on where two ticks differ, not on their distance.
    assert_eq!(level_for(63, 64), 1, "one tick across a level-1 boundary");
    assert_eq!(level_for(64, 127), 0, "63 ticks within one level-1 slot");
    assert_eq!(
        level_for(4095, 4096),
        2,
        "one tick across a level-2 boundary"
    );
    assert_eq!(
        level_for(SPAN - 1, SPAN),
        6,
        "one tick across the top boundary overflows"
    );
    assert_eq!(level_for(SPAN, 2 * SPAN - 1), 5, "same top-level block");
    assert_eq!(level_for(u64::MAX - 1, u64::MAX), 0);
    assert_eq!(level_for(u64::MAX, u64::MAX), 0);
    assert_eq!(level_for(u64::MAX, 0), 10, "symmetric in its arguments");
}

#[test]
fn slot_for_boundaries() {
    let cases = [
        (0, 0, 0),
        (63, 0, 63),
        (64, 0, 0),
        (64, 1, 1),
        (4095, 1, 63),
        (4096, 1, 0),
        (4096, 2, 1),
        (SPAN - 1, 5, 63),
        (SPAN, 5, 0),
        (u64::MAX, 0, 63),
        (u64::MAX, 5, 63),
    ];
    for (when, level, slot) in cases {
        assert_eq!(slot_for(when, level), slot, "slot_for({when}, {level})");
    }
}

#[test]
fn block_start_boundaries() {
    assert_eq!(
        block_start(4095, 0),
        4095,
        "level 0 blocks are single ticks"
    );
    assert_eq!(block_start(4095, 1), 4032);
    assert_eq!(block_start(4095, 2), 0);
    assert_eq!(block_start(4096, 2), 4096);
    assert_eq!(block_start(SPAN - 1, LEVELS), 0);
    assert_eq!(block_start(SPAN, LEVELS), SPAN);
    assert_eq!(
        block_start(u64::MAX, LEVELS),
        !(SPAN - 1),
        "all ones above bit 36"
    );
    assert_eq!(
        slot_start(u64::MAX, 5, 63),
        !((1 << 30) - 1),
        "all ones above bit 30"
    );
    assert_eq!(
        slot_start(100, 1, 3),
        192,
        "the module docs' worked example"
    );
}

/// For many positions of `elapsed`, every slot of every level: its first and
/// last tick file into exactly that level and slot when ahead of `elapsed`,
/// and lie at or behind `elapsed` otherwise.
#[test]
fn every_slot_of_every_level_round_trips() {
    let positions = [
        0,
        1,
        63,
        64,
        4095,
        4096,
        100,
        12_345_678,
        SPAN - 1,
        SPAN,
        u64::MAX / 2,
        u64::MAX - SPAN,
        u64::MAX - 1,
        u64::MAX,
    ];
    for elapsed in positions {
        for level in 0..LEVELS {
            let width = 1u64 << (level as u32 * LEVEL_BITS);
            for slot in 0..SLOTS {
                let first = slot_start(elapsed, level, slot);
                let last = first + (width - 1);
                assert_eq!(
                    block_start(first, level),
                    first,
                    "slot start is not aligned"
                );
                if slot > slot_for(elapsed, level) {
                    for tick in [first, last] {
                        assert!(tick > elapsed, "slot ahead of elapsed starts behind it");
                        assert_eq!(level_for(elapsed, tick), level, "{elapsed} -> {tick}");
                        assert_eq!(slot_for(tick, level), slot, "{elapsed} -> {tick}");
                    }
                } else {
                    assert!(first <= elapsed, "slot behind elapsed starts after it");
                }
            }
        }
    }
}

#[test]
fn new_wheel_is_empty_and_jumps() {
    let mut wheel = Wheel::<u64>::new();
    assert_eq!(
        (wheel.elapsed(), wheel.len(), wheel.is_empty()),
        (0, 0, true)
    );
    assert_eq!(wheel.next_expiration(), None);
    // Stepping tick by tick would never finish; jumping is instant.
    assert!(advance(&mut wheel, u64::MAX / 2).is_empty());
    assert_eq!(wheel.elapsed(), u64::MAX / 2);
    assert!(
        advance(&mut wheel, 7).is_empty(),
        "a backwards advance is a no-op"
    );
    assert_eq!(wheel.elapsed(), u64::MAX / 2);
}

#[test]
fn entry_fires_exactly_at_its_tick() {
    let mut wheel = Wheel::new();
    wheel.insert(5, 50);
    assert_eq!(wheel.next_expiration(), Some(5));
    assert!(advance(&mut wheel, 4).is_empty());
    assert_eq!(advance(&mut wheel, 5), [(5, 50)]);
    assert!(wheel.is_empty());
    assert_eq!(wheel.next_expiration(), None);
}

#[test]
fn worked_example_cascades_then_fires() {
    let mut wheel = Wheel::new();
    advance(&mut wheel, 100);
    wheel.insert(200, 1);
    assert_eq!(wheel.levels[1].occupied, 1 << 3, "filed at level 1, slot 3");
    assert_eq!(
        wheel.next_expiration(),
        Some(192),
        "the cascade point, not the deadline"
    );
    assert!(advance(&mut wheel, 192).is_empty());
    assert_eq!(
        wheel.levels[0].occupied,
        1 << 8,
        "cascaded to level 0, slot 8"
    );
    assert_eq!(wheel.next_expiration(), Some(200));
    assert_eq!(advance(&mut wheel, 1000), [(200, 1)]);
}

#[test]
fn late_inserts_are_due_and_come_out_sorted() {
    let mut wheel = Wheel::new();
    advance(&mut wheel, 1000);
    for (when, value) in [(900, 1), (1000, 2), (3, 3), (999, 4), (1001, 5)] {
        wheel.insert(when, value);
    }
    assert_eq!(
        wheel.next_expiration(),
        Some(3),
        "the earliest late deadline"
    );
    let fired = advance(&mut wheel, 0);
    assert_eq!(
        fired,
        [(3, 3), (900, 1), (999, 4), (1000, 2)],
        "backwards advance drains"
    );
    assert_eq!(wheel.elapsed(), 1000);
    assert_eq!(advance(&mut wheel, 1001), [(1001, 5)]);
    wheel.insert(998, 6);
    assert_eq!(
        wheel.next_expiration(),
        Some(998),
        "not the drained list's old minimum"
    );
}

#[test]
fn many_levels_come_out_in_order_in_one_advance() {
    let mut wheel = Wheel::new();
    let whens = [
        SPAN + 5,
        70_000,
        64,
        63,
        4096,
        1,
        1 << 30,
        4095,
        1 << 24,
        0,
        u64::MAX,
    ];
    for (value, when) in whens.into_iter().enumerate() {
        wheel.insert(when, value as u64);
    }
    assert_invariants(&wheel);
    let fired: Vec<u64> = advance(&mut wheel, u64::MAX)
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    let mut sorted = whens.to_vec();
    sorted.sort_unstable();
    assert_eq!(fired, sorted);
}

#[test]
fn remove_and_stale_keys() {
    let mut wheel = Wheel::new();
    let a = wheel.insert(5000, 1);
    let b = wheel.insert(10, 2);
    assert_eq!(wheel.get(a), Some(&1));
    assert_eq!(wheel.remove(a), Some(1));
    assert_eq!(wheel.remove(a), None, "removing twice");
    assert_eq!(wheel.get(a), None);
    assert_eq!(
        wheel.levels[2].occupied, 0,
        "the emptied slot's bit is cleared"
    );
    assert_eq!(
        advance(&mut wheel, 10_000),
        [(10, 2)],
        "a removed entry never fires"
    );
    assert_eq!(
        wheel.remove(b),
        None,
        "the key of an expired entry is stale"
    );
    // The slab reuses the node, but the old keys cannot name the new entry.
    let c = wheel.insert(20_000, 3);
    assert!(
        c.index() == a.index() || c.index() == b.index(),
        "the freed node is reused"
    );
    assert_ne!(c, a);
    assert_ne!(c, b);
    assert_eq!(
        (wheel.get(a), wheel.get(b), wheel.get(c)),
        (None, None, Some(&3))
    );
    assert_eq!(wheel.remove(b).or(wheel.remove(a)), None);
    assert_eq!(wheel.len(), 1);
}

#[test]
fn a_panicking_callback_leaves_a_consistent_wheel() {
    let mut wheel = Wheel::new();
    let keys: Vec<Key> = (0..3).map(|value| wheel.insert(1, value)).collect();
    let later = wheel.insert(2, 9);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wheel.advance(1, |_, _| panic!("the callback panics"));
    }));
    assert!(outcome.is_err());
    assert_invariants(&wheel);
    assert_eq!(
        (wheel.len(), wheel.elapsed()),
        (1, 1),
        "the batch was dropped"
    );
    assert!(keys.iter().all(|&key| wheel.get(key).is_none()));
    assert_eq!(advance(&mut wheel, 2), [(2, 9)]);
    assert_eq!(wheel.get(later), None);
}

#[test]
fn overflow_entries_return_to_the_wheel() {
    let mut wheel = Wheel::new();
    let far = wheel.insert(SPAN + 70, 1);
    wheel.insert(SPAN, 2);
    assert!(wheel.overflow.is_some() && wheel.levels.iter().all(|l| l.occupied == 0));
    assert_eq!(
        wheel.next_expiration(),
        Some(SPAN),
        "the earliest overflow deadline"
    );
    let near = wheel.insert(SPAN - 1, 3);
    assert_eq!(
        wheel.next_expiration(),
        Some(63 << 30),
        "the wheel comes first"
    );
    wheel.remove(near);
    assert_eq!(advance(&mut wheel, SPAN), [(SPAN, 2)]);
    assert!(
        wheel.overflow.is_none(),
        "the block's entries were pulled into the wheel"
    );
    assert_eq!(
        wheel.next_expiration(),
        Some(SPAN + 64),
        "a level-1 cascade point"
    );
    assert_eq!(wheel.get(far), Some(&1));
    assert_eq!(advance(&mut wheel, SPAN + 70), [(SPAN + 70, 1)]);
}

#[test]
fn deadlines_at_the_end_of_time() {
    let mut wheel = Wheel::new();
    wheel.insert(u64::MAX, 1);
    wheel.insert(u64::MAX - 1, 2);
    wheel.insert(u64::MAX / 2, 3);
    assert!(advance(&mut wheel, u64::MAX / 2 - 1).is_empty());
    assert_eq!(advance(&mut wheel, u64::MAX / 2), [(u64::MAX / 2, 3)]);
    // Drain by following next_expiration: each step makes progress, and few
    // are needed.
    let mut steps = 0;
    let mut fired = Vec::new();
    while let Some(next) = wheel.next_expiration() {
        fired.extend(advance(&mut wheel, next));
        steps += 1;
        assert!(steps <= 8, "draining two entries took more than 8 steps");
    }
    assert_eq!(fired, [(u64::MAX - 1, 2), (u64::MAX, 1)]);
    assert_eq!(wheel.elapsed(), u64::MAX);
    wheel.insert(u64::MAX, 4);
    assert_eq!(
        advance(&mut wheel, u64::MAX),
        [(u64::MAX, 4)],
        "due at the last tick"
    );
}

/// One step of the property test.
#[derive(Clone, Debug)]
enum Op {
    /// Insert at `elapsed + delta`, saturating.
    InsertAhead(u64),
    /// Insert at `elapsed - delta`, saturating: a deadline already passed.
    InsertBehind(u64),
    /// Insert at an absolute tick, typically far beyond the wheel's span.
    InsertAt(u64),
    /// Remove the key of some earlier insert, live or stale.
    Remove(prop::sample::Index),
    /// Advance to `elapsed + delta`, saturating.
    AdvanceBy(u64),
    /// Advance to an absolute tick, possibly backwards.
    AdvanceTo(u64),
    /// Advance to `next_expiration()`, which must make progress.
    AdvanceToNext,
}

fn op() -> impl Strategy<Value = Op> {
    let near = prop_oneof![0..200u64, 0..100_000u64, 0..1u64 << 40];
    let far = prop_oneof![
        Just(SPAN),
        SPAN..4 * SPAN,
        u64::MAX - 200..=u64::MAX,
        any::<u64>()
    ];
    let step = prop_oneof![0..100u64, 0..10_000u64, 0..1u64 << 38];
    let jump = prop_oneof![Just(u64::MAX / 2), u64::MAX - 300..=u64::MAX, any::<u64>()];
    prop_oneof![
        6 => near.prop_map(Op::InsertAhead),
        1 => (0..100u64).prop_map(Op::InsertBehind),
        2 => far.prop_map(Op::InsertAt),
        3 => any::<prop::sample::Index>().prop_map(Op::Remove),
        4 => step.prop_map(Op::AdvanceBy),
        1 => jump.prop_map(Op::AdvanceTo),
        3 => Just(Op::AdvanceToNext),
    ]
}

/// The model: live entries ordered by `(when, insertion number)`.
type Model = BTreeMap<(u64, u64), ()>;

/// Advances both the wheel and the model to `now` and checks that exactly the
/// model's entries with `when <= now` came out, in non-decreasing `when`
/// order.
fn advance_both(wheel: &mut Wheel<u64>, model: &mut Model, now: u64) -> Result<(), TestCaseError> {
    let target = now.max(wheel.elapsed());
    let fired = advance(wheel, now);
    prop_assert_eq!(wheel.elapsed(), target);
    prop_assert!(
        fired.windows(2).all(|w| w[0].0 <= w[1].0),
        "out of order: {:?}",
        fired
    );
    let expected: Vec<(u64, u64)> = model
        .range(..=(target, u64::MAX))
        .map(|(&k, _)| k)
        .collect();
    for entry in &expected {
        model.remove(entry);
    }
    let mut got = fired;
    got.sort_unstable();
    prop_assert_eq!(
        got,
        expected,
        "advance to {} handed out the wrong entries",
        target
    );
    Ok(())
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut wheel = Wheel::new();
    let mut model = Model::new();
    let mut keys: Vec<(Key, u64, u64)> = Vec::new();
    for op in ops {
        let elapsed = wheel.elapsed();
        let mut insert = |when: u64| {
            let seq = keys.len() as u64;
            keys.push((wheel.insert(when, seq), when, seq));
            model.insert((when, seq), ());
        };
        match op {
            Op::InsertAhead(delta) => insert(elapsed.saturating_add(delta)),
            Op::InsertBehind(delta) => insert(elapsed.saturating_sub(delta)),
            Op::InsertAt(when) => insert(when),
            Op::Remove(_) if keys.is_empty() => {}
            Op::Remove(pick) => {
                let (key, when, seq) = keys[pick.index(keys.len())];
                let expected = model.remove(&(when, seq)).map(|()| seq);
                prop_assert_eq!(wheel.remove(key), expected);
                prop_assert_eq!(wheel.get(key), None);
            }
            Op::AdvanceBy(delta) => {
                advance_both(&mut wheel, &mut model, elapsed.saturating_add(delta))?;
            }
            Op::AdvanceTo(now) => {
                advance_both(&mut wheel, &mut model, now)?;
            }
            Op::AdvanceToNext => {
                if let Some(next) = wheel.next_expiration() {
                    let before = model.len();
                    advance_both(&mut wheel, &mut model, next)?;
                    let progress = model.len() < before || wheel.elapsed() > elapsed;
                    prop_assert!(
                        progress,
                        "advancing to next_expiration {} did nothing",
                        next
                    );
                }
            }
        }
        prop_assert_eq!(wheel.len(), model.len());
        let earliest = model.keys().next().map(|&(when, _)| when);
        match (wheel.next_expiration(), earliest) {
            (None, None) => {}
            (Some(next), Some(earliest)) => {
                prop_assert!(
                    next <= earliest,
                    "next_expiration {} > earliest {}",
                    next,
                    earliest
                );
            }
            (next, earliest) => {
                prop_assert!(false, "next {:?} but earliest {:?}", next, earliest)
            }
        }
        assert_invariants(&wheel);
    }
    // Following next_expiration drains the wheel, and each entry costs at
    // most one overflow pull and six cascades on the way.
    let mut budget = 8 * model.len() + 1;
    while let Some(next) = wheel.next_expiration() {
        prop_assert!(budget > 0, "draining the wheel does not terminate");
        budget -= 1;
        advance_both(&mut wheel, &mut model, next)?;
    }
    prop_assert!(model.is_empty(), "entries left in the model: {:?}", model);
    Ok(())
}

proptest! {
    // No regressions file in the work tree: a failure prints its shrunk
    // input, and the tour's exercises break the wheel on purpose.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random inserts, removes and advances agree with a sorted-map model.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn wheel_matches_a_sorted_map(ops in prop::collection::vec(op(), 1..120)) {
        run(ops)?;
    }
}
