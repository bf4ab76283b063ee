//! `timeout_scope`: a deadline the body moves itself — later, earlier,
//! away (`None`), or into the past (expiry at the next turn, without the
//! body resuming) — the body dropped on expiry before `Err(Elapsed)`, and
//! the scope handle still answering after the scope ended. All in virtual
//! time, so every instant is exact.

mod support;

use std::cell::Cell;
use std::future::{pending, Future};
use std::rc::Rc;
use std::time::Duration;

use spindle::time::{now, sleep};
use spindle::{spawn, timeout_scope, yield_now, Elapsed, TimeoutScope};
use support::{virtual_runtime, virtual_time, SetOnDrop};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn rescheduled_later_the_body_finishes_in_the_extended_time() {
    virtual_time(async {
        let start = now();
        let outcome = timeout_scope(SECOND, |scope| async move {
            sleep(SECOND / 2).await;
            scope.reschedule(Some(now() + 2 * SECOND));
            assert_eq!(scope.deadline(), Some(start + SECOND / 2 + 2 * SECOND));
            sleep(SECOND).await; // past the first deadline, within the new one
            "finished"
        })
        .await;
        assert_eq!(outcome, Ok("finished"));
        assert_eq!(now() - start, SECOND * 3 / 2);
    });
}

#[test]
fn rescheduled_later_it_expires_at_the_new_deadline_exactly() {
    virtual_time(async {
        let start = now();
        let scoped = timeout_scope(SECOND, |scope| async move {
            sleep(SECOND / 2).await;
            scope.reschedule(Some(now() + 2 * SECOND));
            sleep(10 * SECOND).await;
        });
        let scope = scoped.scope();
        let outcome: Result<(), Elapsed> = scoped.await;
        assert!(outcome.is_err());
        assert_eq!(now() - start, SECOND * 5 / 2);
        assert!(scope.expired());
    });
}

#[test]
fn rescheduled_earlier_it_expires_at_the_earlier_deadline() {
    virtual_time(async {
        let start = now();
        let outcome = timeout_scope(10 * SECOND, |scope| async move {
            scope.reschedule(Some(now() + SECOND));
            sleep(5 * SECOND).await;
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(now() - start, SECOND);
    });
}

#[test]
fn rescheduled_to_none_there_is_no_deadline_at_all() {
    virtual_time(async {
        let start = now();
        let outcome = timeout_scope(SECOND, |scope| async move {
            scope.reschedule(None);
            assert_eq!(scope.deadline(), None);
            sleep(3600 * SECOND).await;
            7
        })
        .await;
        assert_eq!(outcome, Ok(7));
        assert_eq!(now() - start, 3600 * SECOND);
    });
}

/// A past instant expires the scope at the next turn of the loop: the body
/// runs on to its next suspension, is never resumed, and other ready tasks
/// run before the scope returns (as asyncio's `call_soon(on_timeout)`).
#[test]
fn rescheduled_into_the_past_it_expires_at_the_next_turn_without_resuming_the_body() {
    virtual_time(async {
        let other_ran = Rc::new(Cell::new(false));
        let resumed = Rc::new(Cell::new(false));
        let start = now();
        let outcome = timeout_scope(10 * SECOND, |scope| {
            let (other_ran, resumed) = (Rc::clone(&other_ran), Rc::clone(&resumed));
            async move {
                spawn(async move { other_ran.set(true) });
                scope.reschedule(Some(now() - SECOND));
                assert!(!scope.expired(), "not before the body suspends");
                yield_now().await; // ready again at once: still not resumed
                resumed.set(true);
            }
        })
        .await;
        assert!(outcome.is_err());
        assert!(!resumed.get(), "the body was not resumed");
        assert!(
            other_ran.get(),
            "another task ran in between: the next turn"
        );
        assert_eq!(now(), start, "no time passed");
    });
}

#[test]
fn a_zero_timeout_still_runs_the_body_up_to_its_first_suspension() {
    virtual_time(async {
        let reached = Rc::new(Cell::new(0));
        let outcome = timeout_scope(Duration::ZERO, |_| {
            let reached = Rc::clone(&reached);
            async move {
                reached.set(1);
                sleep(SECOND).await;
                reached.set(2);
            }
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(reached.get(), 1);
        // A body ready at once wins even a zero timeout.
        assert_eq!(timeout_scope(Duration::ZERO, |_| async { 5 }).await, Ok(5));
    });
}

#[test]
fn on_expiry_the_body_is_dropped_before_the_error_and_sees_expired() {
    virtual_time(async {
        let dropped = Rc::new(Cell::new(false));
        let saw_expired = Rc::new(Cell::new(None));
        /// Records, when dropped, what the scope said then.
        struct Witness(TimeoutScope, Rc<Cell<Option<bool>>>);
        impl Drop for Witness {
            fn drop(&mut self) {
                self.1.set(Some(self.0.expired()));
            }
        }
        let mut scoped = Box::pin(timeout_scope(SECOND, |scope| {
            let (dropped, saw) = (SetOnDrop(Rc::clone(&dropped)), Rc::clone(&saw_expired));
            async move {
                let _flag = dropped;
                let _witness = Witness(scope, saw);
                pending::<()>().await;
            }
        }));
        let outcome = std::future::poll_fn(|cx| {
            let poll = scoped.as_mut().poll(cx);
            if poll.is_ready() {
                // The scope future still exists: the body went with expiry.
                assert!(dropped.get(), "the body was dropped before the error");
            }
            poll
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(saw_expired.get(), Some(true), "its drop saw `expired()`");
    });
}

#[test]
fn the_scope_handle_answers_after_the_scope_ended() {
    virtual_time(async {
        let kept = Rc::new(std::cell::RefCell::new(None));
        let outcome = timeout_scope(SECOND, |scope| {
            let kept = Rc::clone(&kept);
            async move {
                *kept.borrow_mut() = Some(scope.clone());
                sleep(2 * SECOND).await;
            }
        })
        .await;
        assert!(outcome.is_err());
        let scope = kept.borrow_mut().take().unwrap();
        assert!(scope.expired());
        assert!(scope.deadline().is_some());

        let finished = timeout_scope(SECOND, |_| async {});
        let scope = finished.scope();
        assert!(finished.await.is_ok());
        assert!(!scope.expired(), "finished in time");
    });
}

#[test]
#[should_panic(expected = "on a scope that has expired")]
fn reschedule_after_expiry_panics() {
    virtual_time(async {
        let scoped = timeout_scope(SECOND, |_| pending::<()>());
        let scope = scoped.scope();
        assert!(scoped.await.is_err());
        scope.reschedule(Some(now() + SECOND));
    });
}

#[test]
fn a_dropped_scope_counts_as_finished_and_cancels_its_timer() {
    let runtime = virtual_runtime();
    let scope = runtime.block_on(async {
        let scoped = timeout_scope(SECOND, |_| pending::<()>());
        let scope = scoped.scope();
        // It loses a race against a shorter sleep and is dropped.
        let lost = spindle::race(async { scoped.await.is_ok() }, async {
            sleep(SECOND / 10).await;
            false
        });
        assert!(!lost.await);
        scope
    });
    assert!(!scope.expired());
    assert!(
        runtime.metrics().timers_cancelled >= 1,
        "the scope's timer was cancelled"
    );
    let rescheduled = std::panic::catch_unwind(|| scope.reschedule(None));
    assert!(rescheduled.is_err(), "a dropped scope refuses to move");
}

#[test]
fn a_reschedule_from_another_task_wakes_the_scope() {
    virtual_time(async {
        let start = now();
        let scoped = timeout_scope(3600 * SECOND, |_| pending::<()>());
        let scope = scoped.scope();
        spawn(async move {
            sleep(SECOND).await;
            scope.reschedule(Some(now() + SECOND)); // from outside the body
        });
        assert!(scoped.await.is_err());
        assert_eq!(now() - start, 2 * SECOND);
    });
}

#[test]
fn a_reschedule_from_another_thread_is_never_lost() {
    virtual_time(async {
        let start = now();
        let scoped = timeout_scope(3600 * SECOND, |_| pending::<()>());
        let scope = scoped.scope();
        let deadline = start + SECOND;
        let helper = spindle::to_thread(move || scope.reschedule(Some(deadline)));
        let (outcome, _) = spindle::join!(scoped, helper).await;
        assert!(outcome.is_err());
        assert_eq!(now() - start, SECOND);
    });
}

/// A `reschedule` made by the body during its own poll is taken in after
/// that poll and wakes nobody: the body is not polled again for it.
#[test]
fn a_reschedule_inside_the_body_costs_no_extra_poll() {
    virtual_time(async {
        let polls = Rc::new(Cell::new(0));
        let start = now();
        let outcome = timeout_scope(SECOND, |scope| {
            let polls = Rc::clone(&polls);
            std::future::poll_fn(move |_| {
                polls.set(polls.get() + 1);
                if polls.get() == 1 {
                    scope.reschedule(Some(now() + 2 * SECOND));
                }
                std::task::Poll::<()>::Pending
            })
        })
        .await;
        assert!(outcome.is_err());
        assert_eq!(
            now() - start,
            2 * SECOND,
            "the moved deadline was the one armed"
        );
        assert_eq!(polls.get(), 1, "polled once; the expiry does not resume it");
    });
}
