//! `task_group`: the group waits for every child, the first failure cancels
//! everything else (the body at its current await), failures come back
//! together and in order (panics included), a cancelled group drops its
//! children exactly once, `spawn` on a failing or ended group starts
//! nothing, a wake polls only the woken member, and the trace names it all.
//!
//! Most tests poll the group by hand with counting wakers, so each step is
//! exact; the rest run it on spindle (virtual time) or `futures_executor`.

mod prim_util;
mod support;

use std::cell::{Cell, RefCell};
use std::future::{pending, Future};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use prim_util::{
    counting_waker, panic_message, panicking_waker, poll_once, yield_once, DropCounter, Gate,
};
use spindle::time::sleep;
use spindle::{
    spawn, task_group, yield_now, ChildError, ChildHandle, Failure, GroupError, TaskGroup,
};
use support::virtual_time;

/// Panics with its message when dropped: a child whose cleanup fails.
struct PanicOnDrop(&'static str);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        std::panic::panic_any(self.0);
    }
}

/// The messages of a group's failures: `Err` values as they are, panics
/// as `panic: <message>`.
fn described(error: &GroupError<&'static str>) -> Vec<String> {
    error
        .failures()
        .iter()
        .map(|failure| match failure {
            Failure::Error(e) => e.to_string(),
            Failure::Panic(p) => format!("panic: {}", p.message().unwrap_or("?")),
        })
        .collect()
}

#[test]
fn the_group_returns_only_after_every_child_ended_though_the_body_returned_first() {
    let gates: Vec<Gate> = (0..3).map(|_| Gate::new()).collect();
    let body_returned = Rc::new(Cell::new(false));
    let mut group = task_group({
        let (gates, body_returned) = (gates.clone(), Rc::clone(&body_returned));
        move |group| async move {
            let handles: Vec<ChildHandle<usize>> = gates
                .iter()
                .enumerate()
                .map(|(i, gate)| {
                    let wait = gate.wait(i * 10);
                    group.spawn(async move { Ok::<_, &str>(wait.await) })
                })
                .collect();
            body_returned.set(true);
            Ok(handles)
        }
    });
    let (waker, wakes) = counting_waker();
    // Poll 1: the body spawns and returns; the children wait for poll 2.
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(body_returned.get());
    assert_eq!(
        gates.iter().map(Gate::polls).sum::<usize>(),
        0,
        "spawn polls nothing"
    );
    assert_eq!(
        wakes.count(),
        1,
        "the group wakes itself to start its children"
    );
    // Poll 2: each child runs once.
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(gates.iter().all(|g| g.polls() == 1));
    gates[2].open();
    gates[0].open();
    assert!(
        poll_once(Pin::new(&mut group), &waker).is_pending(),
        "child 1 still runs"
    );
    gates[1].open();
    let Poll::Ready(Ok(handles)) = poll_once(Pin::new(&mut group), &waker) else {
        panic!("every child ended: the group ends with the body's value");
    };
    let results: Vec<_> = handles.into_iter().map(ChildHandle::result).collect();
    assert_eq!(results, [Ok(0), Ok(10), Ok(20)]);
}

#[test]
fn a_child_failing_while_the_body_is_suspended_cancels_the_body_at_that_await() {
    let body_guard = DropCounter::new();
    let past_the_await = Rc::new(Cell::new(false));
    let fail = Gate::new();
    let mut group = task_group({
        let (guard, past, fail) = (body_guard.guard(), Rc::clone(&past_the_await), fail.clone());
        move |group| async move {
            let _guard = guard;
            group.spawn(async move {
                fail.wait(()).await;
                Err::<(), _>("child failed")
            });
            pending::<()>().await; // the body waits here, forever
            past.set(true);
            Ok(())
        }
    });
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert_eq!(body_guard.count(), 0);
    fail.open();
    let Poll::Ready(Err(error)) = poll_once(Pin::new(&mut group), &waker) else {
        panic!("the child's failure ends the group");
    };
    assert_eq!(body_guard.count(), 1, "the body was dropped");
    assert!(!past_the_await.get(), "the body never ran past its await");
    assert_eq!(described(&error), ["child failed"]);
}

#[test]
fn a_failure_cancels_every_other_child_before_the_group_returns() {
    let drops = DropCounter::new();
    let polls_after_failure = Rc::new(Cell::new(0));
    let fail = Gate::new();
    let mut group = task_group({
        let (drops, polls, fail) = (drops.clone(), Rc::clone(&polls_after_failure), fail.clone());
        move |group| async move {
            for _ in 0..3 {
                let (guard, polls) = (drops.guard(), Rc::clone(&polls));
                group.spawn(async move {
                    let _guard = guard;
                    pending::<()>().await;
                    polls.set(polls.get() + 1);
                    Ok(())
                });
            }
            group.spawn(async move {
                fail.wait(()).await;
                Err::<(), _>("boom")
            });
            Ok(())
        }
    });
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert_eq!(fail.polls(), 1, "every child has started");
    fail.open();
    let Poll::Ready(Err(error)) = poll_once(Pin::new(&mut group), &waker) else {
        panic!("the failure ends the group");
    };
    assert_eq!(
        drops.count(),
        3,
        "every sibling was dropped before the group returned"
    );
    assert_eq!(polls_after_failure.get(), 0);
    assert_eq!(described(&error), ["boom"]);
}

#[test]
fn failures_come_together_in_order_the_first_error_then_panics_of_cancelled_members() {
    let fail = Gate::new();
    let mut group = task_group({
        let fail = fail.clone();
        move |group| async move {
            let _cleanup = PanicOnDrop("body cleanup");
            group.spawn(async move {
                fail.wait(()).await;
                Err::<(), _>("child 1 failed")
            });
            group.spawn(async {
                let _cleanup = PanicOnDrop("child 2 cleanup");
                pending::<Result<(), &str>>().await
            });
            group.spawn(async { pending::<Result<(), &str>>().await }); // cancelled quietly
            pending::<()>().await;
            Ok(())
        }
    });
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    fail.open();
    let Poll::Ready(Err(error)) = poll_once(Pin::new(&mut group), &waker) else {
        panic!("the failure ends the group");
    };
    assert_eq!(
        described(&error),
        [
            "child 1 failed",
            "panic: body cleanup",
            "panic: child 2 cleanup"
        ]
    );
    assert_eq!(
        error.to_string(),
        "a task group failed: child 1 failed; panicked: body cleanup; panicked: child 2 cleanup"
    );
}

#[test]
fn a_panicking_child_is_a_failure_that_keeps_its_payload() {
    let outcome = futures_executor::block_on(task_group(|group: TaskGroup<&str>| async move {
        let child = group.spawn(async {
            yield_once().await;
            if true {
                panic!("child went wrong");
            }
            Ok(())
        });
        Ok(child)
    }));
    let error = outcome.unwrap_err();
    assert_eq!(described(&error), ["panic: child went wrong"]);
    // The payload is kept: `resume_panic` raises the very same panic again.
    let resumed = panic::catch_unwind(AssertUnwindSafe(|| error.resume_panic())).unwrap_err();
    assert_eq!(panic_message(&*resumed), Some("child went wrong"));
}

#[test]
fn a_panicking_body_fails_the_group_and_cancels_the_children() {
    let drops = DropCounter::new();
    let outcome = futures_executor::block_on(task_group({
        let guard = drops.guard();
        move |group: TaskGroup<&str>| async move {
            let child = group.spawn(async move {
                let _guard = guard;
                pending::<Result<(), &str>>().await
            });
            yield_once().await; // the child starts
            if true {
                panic!("body went wrong");
            }
            Ok(child)
        }
    }));
    assert_eq!(described(&outcome.unwrap_err()), ["panic: body went wrong"]);
    assert_eq!(drops.count(), 1);
}

#[test]
fn the_body_returning_err_cancels_the_children_and_children_handles_say_so() {
    let handle = Rc::new(RefCell::new(None));
    let outcome = futures_executor::block_on(task_group({
        let handle = Rc::clone(&handle);
        move |group| async move {
            *handle.borrow_mut() = Some(group.spawn(pending::<Result<u8, &str>>()));
            yield_once().await;
            Err::<(), _>("the body gave up")
        }
    }));
    assert_eq!(described(&outcome.unwrap_err()), ["the body gave up"]);
    let handle = handle.borrow_mut().take().unwrap();
    assert!(handle.is_finished());
    assert_eq!(handle.result(), Err(ChildError::Cancelled));
}

#[test]
fn a_child_that_fails_after_the_body_returned_still_fails_the_group() {
    let fail = Gate::new();
    let body_value = DropCounter::new();
    let mut group = task_group({
        let (fail, value) = (fail.clone(), body_value.guard());
        move |group| async move {
            let failed = group.spawn(async move {
                fail.wait(()).await;
                Err::<(), _>("late failure")
            });
            Ok((value, failed))
        }
    });
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert_eq!(
        body_value.count(),
        0,
        "the body's value waits for the children"
    );
    fail.open();
    let Poll::Ready(Err(error)) = poll_once(Pin::new(&mut group), &waker) else {
        panic!("the failure ends the group");
    };
    assert_eq!(described(&error), ["late failure"]);
    assert_eq!(
        body_value.count(),
        1,
        "the body's value is dropped, not returned"
    );
}

#[test]
fn a_group_in_a_cancelled_task_drops_its_body_and_children_exactly_once() {
    let drops = DropCounter::new();
    let handles = Rc::new(RefCell::new(Vec::new()));
    virtual_time({
        let (drops, handles) = (drops.clone(), Rc::clone(&handles));
        async move {
            let task = spawn({
                let handles = Rc::clone(&handles);
                async move {
                    task_group(move |group| async move {
                        let _guard = drops.guard();
                        for _ in 0..3 {
                            let guard = drops.guard();
                            handles.borrow_mut().push(group.spawn(async move {
                                let _guard = guard;
                                sleep(Duration::from_secs(3600)).await;
                                Ok::<_, ()>(())
                            }));
                        }
                        pending::<()>().await;
                        Ok(())
                    })
                    .await
                }
            });
            sleep(Duration::from_secs(1)).await; // the group and its children start
            assert_eq!(handles.borrow().len(), 3);
            task.cancel();
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(
        drops.count(),
        4,
        "the body and three children, each dropped once"
    );
    for handle in handles.borrow_mut().drain(..) {
        assert_eq!(handle.result(), Err(ChildError::Cancelled));
    }
}

#[test]
fn spawn_on_a_failing_group_starts_nothing() {
    let polled = Rc::new(Cell::new(false));
    let refused_drops = DropCounter::new();
    let late_handle = Rc::new(RefCell::new(None));
    type Child = Pin<Box<dyn Future<Output = Result<(), &'static str>>>>;
    /// On drop (the group cancelling it), spawns one more child.
    struct SpawnOnDrop {
        group: TaskGroup<&'static str>,
        child: Option<Child>,
        handle: Rc<RefCell<Option<ChildHandle<()>>>>,
    }
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let handle = self.group.spawn(self.child.take().unwrap());
            *self.handle.borrow_mut() = Some(handle);
        }
    }
    let outcome = futures_executor::block_on(task_group({
        let (polled, guard, late) = (
            Rc::clone(&polled),
            refused_drops.guard(),
            Rc::clone(&late_handle),
        );
        move |group| async move {
            let _spawner = SpawnOnDrop {
                group: group.clone(),
                child: Some(Box::pin(async move {
                    let _guard = guard;
                    polled.set(true);
                    Ok(())
                })),
                handle: late,
            };
            group.spawn(async { Err::<(), _>("failure") });
            pending::<()>().await;
            Ok(())
        }
    }));
    assert_eq!(described(&outcome.unwrap_err()), ["failure"]);
    let handle = late_handle
        .borrow_mut()
        .take()
        .expect("the body's drop spawned");
    assert_eq!(handle.result(), Err(ChildError::NotStarted));
    assert!(!polled.get(), "the refused child was never polled");
    assert_eq!(refused_drops.count(), 1, "and it was dropped at once");
}

#[test]
fn spawn_on_an_ended_group_starts_nothing() {
    let escaped = Rc::new(RefCell::new(None));
    let outcome = futures_executor::block_on(task_group({
        let escaped = Rc::clone(&escaped);
        move |group: TaskGroup<()>| {
            *escaped.borrow_mut() = Some(group);
            async { Ok(()) }
        }
    }));
    assert!(outcome.is_ok());
    let polled = Rc::new(Cell::new(false));
    let group = escaped.borrow_mut().take().unwrap();
    let handle = group.spawn({
        let polled = Rc::clone(&polled);
        async move {
            polled.set(true);
            Ok(())
        }
    });
    assert!(handle.is_finished());
    assert_eq!(handle.result(), Err(ChildError::NotStarted));
    assert!(!polled.get());
}

#[test]
fn a_child_spawns_a_sibling_and_the_group_waits_for_it_too() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let outcome = futures_executor::block_on(task_group({
        let log = Rc::clone(&log);
        move |group| async move {
            let sibling_group = group.clone();
            let parent = group.spawn({
                let log = Rc::clone(&log);
                async move {
                    log.borrow_mut().push("parent child runs");
                    let grandchild = sibling_group.spawn({
                        let log = Rc::clone(&log);
                        async move {
                            yield_once().await;
                            log.borrow_mut().push("sibling ends");
                            Ok::<_, ()>(7)
                        }
                    });
                    log.borrow_mut().push("parent child ends");
                    Ok(grandchild)
                }
            });
            log.borrow_mut().push("body ends");
            Ok(parent)
        }
    }));
    let sibling = outcome.unwrap().result().unwrap();
    assert_eq!(sibling.result(), Ok(7), "the group waited for the sibling");
    assert_eq!(
        *log.borrow(),
        [
            "body ends",
            "parent child runs",
            "parent child ends",
            "sibling ends"
        ]
    );
}

#[test]
fn children_first_run_after_their_spawner_yielded_in_spawn_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let outcome = futures_executor::block_on(task_group({
        let log = Rc::clone(&log);
        move |group| async move {
            for name in ["a", "b", "c"] {
                let log = Rc::clone(&log);
                group.spawn(async move {
                    log.borrow_mut().push(name);
                    Ok::<_, ()>(())
                });
            }
            log.borrow_mut().push("body yields");
            yield_once().await;
            log.borrow_mut().push("body resumes");
            Ok(())
        }
    }));
    assert!(outcome.is_ok());
    assert_eq!(
        *log.borrow(),
        ["body yields", "a", "b", "c", "body resumes"]
    );
}

#[test]
fn awaiting_a_child_handle_inside_the_body_gives_its_value() {
    let gate = Gate::new();
    let mut group = task_group({
        let gate = gate.clone();
        move |group| async move {
            let child = group.spawn(async move { Ok::<_, ()>(gate.wait(41).await + 1) });
            Ok(child.await)
        }
    });
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    gate.open();
    // The child ends, which wakes the body (a member of the same group).
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(matches!(
        poll_once(Pin::new(&mut group), &waker),
        Poll::Ready(Ok(Ok(42)))
    ));
}

#[test]
fn a_wake_polls_only_the_member_it_names() {
    const N: usize = 1_000;
    let gates: Vec<Gate> = (0..N).map(|_| Gate::new()).collect();
    let body_gate = Gate::new();
    let mut group = task_group({
        let (gates, body_gate) = (gates.clone(), body_gate.clone());
        move |group| async move {
            for gate in &gates {
                let wait = gate.wait(());
                group.spawn(async move {
                    wait.await;
                    Ok::<_, ()>(())
                });
            }
            body_gate.wait(()).await;
            Ok(())
        }
    });
    let (waker, wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(gates.iter().all(|g| g.polls() == 1));
    assert_eq!(body_gate.polls(), 1);
    let wakes_before = wakes.count();
    gates[500].wake_only();
    gates[7].wake_only();
    assert_eq!(
        wakes.count(),
        wakes_before + 1,
        "one wake of the group for the batch"
    );
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    let polls: usize = gates.iter().map(Gate::polls).sum();
    assert_eq!(
        polls,
        N + 2,
        "only the two woken children were polled again"
    );
    assert_eq!((gates[500].polls(), gates[7].polls()), (2, 2));
    assert_eq!(body_gate.polls(), 1, "the body was not polled");
    // A spurious poll of the group polls nobody.
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert_eq!(gates.iter().map(Gate::polls).sum::<usize>(), N + 2);
    for gate in &gates {
        gate.open();
    }
    body_gate.open();
    assert!(matches!(
        poll_once(Pin::new(&mut group), &waker),
        Poll::Ready(Ok(()))
    ));
}

#[test]
fn spawn_from_outside_the_groups_poll_wakes_the_group() {
    let escaped = Rc::new(RefCell::new(None));
    let mut group = task_group({
        let escaped = Rc::clone(&escaped);
        move |group: TaskGroup<()>| {
            *escaped.borrow_mut() = Some(group);
            pending::<Result<(), ()>>()
        }
    });
    let (waker, wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert_eq!(wakes.count(), 0);
    let group_handle = escaped.borrow().clone().unwrap();
    let ran = Rc::new(Cell::new(false));
    let first = group_handle.spawn({
        let ran = Rc::clone(&ran);
        async move {
            ran.set(true);
            Ok(1)
        }
    });
    let second = group_handle.spawn(async { Ok(2) });
    assert_eq!(
        wakes.count(),
        1,
        "the first spawn wakes the group, the second needs not"
    );
    assert!(!ran.get());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(ran.get());
    assert_eq!((first.result(), second.result()), (Ok(1), Ok(2)));
}

#[test]
fn a_panicking_group_waker_loses_no_wake() {
    let gate = Gate::new();
    let mut group = task_group({
        let gate = gate.clone();
        move |group| async move {
            let child = group.spawn(async move { Ok::<_, ()>(gate.wait(5).await) });
            Ok(child)
        }
    });
    let (good, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &good).is_pending());
    assert!(poll_once(Pin::new(&mut group), &good).is_pending());
    // The group's task now has a waker that panics when woken.
    let (bad, bad_wakes) = panicking_waker("group waker");
    assert!(poll_once(Pin::new(&mut group), &bad).is_pending());
    let opened = panic::catch_unwind(AssertUnwindSafe(|| gate.open()));
    assert_eq!(panic_message(&*opened.unwrap_err()), Some("group waker"));
    assert_eq!(bad_wakes.count(), 1);
    // The child's wake was recorded before its parent's waker panicked.
    let Poll::Ready(Ok(child)) = poll_once(Pin::new(&mut group), &good) else {
        panic!("the woken child was polled and the group ended");
    };
    assert_eq!(child.result(), Ok(5));
}

#[test]
fn a_panicking_handle_waker_leaves_the_group_whole_and_every_other_waiter_woken() {
    let gates = [Gate::new(), Gate::new()];
    let handles = Rc::new(RefCell::new(Vec::new()));
    let mut group = task_group({
        let (gates, handles) = (gates.clone(), Rc::clone(&handles));
        move |group| async move {
            for (value, gate) in [1, 2].into_iter().zip(&gates) {
                let wait = gate.wait(value);
                handles
                    .borrow_mut()
                    .push(group.spawn(async move { Ok::<_, ()>(wait.await) }));
            }
            Ok(())
        }
    });
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    // Two tasks outside the group await the two handles.
    let mut first = handles.borrow_mut().remove(0);
    let mut second = handles.borrow_mut().remove(0);
    let (bad, _) = panicking_waker("waiter waker");
    let (good, good_wakes) = counting_waker();
    assert!(poll_once(Pin::new(&mut first), &bad).is_pending());
    assert!(poll_once(Pin::new(&mut second), &good).is_pending());
    gates[0].open();
    gates[1].open();
    // Both children end in this poll; waking the first waiter panics.
    let polled = panic::catch_unwind(AssertUnwindSafe(|| poll_once(Pin::new(&mut group), &waker)));
    assert_eq!(panic_message(&*polled.unwrap_err()), Some("waiter waker"));
    assert_eq!(
        good_wakes.count(),
        1,
        "the other waiter was woken all the same"
    );
    // The group's state was complete: polled again, it ends.
    assert!(matches!(
        poll_once(Pin::new(&mut group), &waker),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(poll_once(Pin::new(&mut first), &good), Poll::Ready(Ok(1)));
    assert_eq!(poll_once(Pin::new(&mut second), &good), Poll::Ready(Ok(2)));
}

#[test]
fn the_group_runs_on_a_foreign_executor() {
    let outcome = futures_executor::block_on(task_group(|group| async move {
        let handles: Vec<_> = (0..20u32)
            .map(|i| {
                group.spawn(async move {
                    for _ in 0..i {
                        yield_once().await;
                    }
                    Ok::<_, ()>(i)
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        Ok(total)
    }));
    assert_eq!(outcome.unwrap(), (0..20).sum::<u32>());
}

#[test]
fn a_child_handle_awaited_from_another_spindle_task_after_the_group() {
    virtual_time(async {
        let handle = task_group(|group| async move {
            Ok::<_, ()>(group.spawn(async {
                sleep(Duration::from_secs(1)).await;
                Ok("late")
            }))
        })
        .await
        .unwrap();
        let reader = spawn(handle);
        yield_now().await;
        assert_eq!(reader.await.unwrap(), Ok("late"));
    });
}

#[test]
#[should_panic(expected = "still running")]
fn result_on_a_running_child_panics() {
    let mut group = task_group(|group| async move {
        let child = group.spawn(pending::<Result<(), ()>>());
        let _ = child.result();
        Ok(())
    });
    let (waker, _) = counting_waker();
    // The body's panic is caught by the group: raise it again here.
    if let Poll::Ready(Err(error)) = poll_once(Pin::new(&mut group), &waker) {
        error.resume_panic();
    }
}

#[test]
fn dropping_the_group_before_its_first_poll_drops_the_body_and_the_spawned() {
    let drops = DropCounter::new();
    let group = task_group({
        let (body_guard, child_guard) = (drops.guard(), drops.guard());
        move |group| {
            let child = group.spawn(async move {
                let _guard = child_guard;
                Ok::<_, ()>(())
            });
            async move {
                let _guard = body_guard;
                Ok(child)
            }
        }
    });
    drop(group);
    assert_eq!(drops.count(), 2);
}

/// The group names itself in a spindle trace: a child's failure, the
/// cancellation, the end, on the lane of the task awaiting the group.
#[test]
fn the_trace_notes_failures_cancellations_and_the_end() {
    use serde_json::Value;
    let path = std::env::temp_dir().join(format!(
        "spindle-prim_task_group-{}-notes.json",
        std::process::id()
    ));
    let runtime = spindle::Runtime::builder()
        .virtual_time(true)
        .trace(&path)
        .build()
        .unwrap();
    runtime.block_on(async {
        let outcome = task_group(|group| async move {
            group.spawn(async {
                sleep(Duration::from_secs(5)).await;
                Ok(())
            });
            group.spawn(async {
                sleep(Duration::from_secs(1)).await;
                Err::<(), _>("no")
            });
            Ok(())
        })
        .await;
        assert!(outcome.is_err());
    });
    drop(runtime);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let notes: Vec<&str> = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .filter(|name| name.starts_with("TaskGroup#"))
        .collect();
    assert_eq!(
        notes,
        [
            "TaskGroup#1 child 2 failed",
            "TaskGroup#1 cancelling 1 child",
            "TaskGroup#1 ended with 1 failure"
        ]
    );
}

/// Slots and wakers are reused: a child that finished leaves its slot to
/// the next one spawned. Its stale waker, fired later, must not poll the
/// newcomer (the slot's generation tells them apart).
#[test]
fn a_stale_wake_of_a_finished_child_never_polls_the_child_in_its_slot() {
    let stored = Rc::new(RefCell::new(None::<std::task::Waker>));
    let gate = Gate::new();
    let spawn_second = Gate::new();
    let mut group = task_group({
        let (stored, gate, spawn_second) = (Rc::clone(&stored), gate.clone(), spawn_second.clone());
        move |group| async move {
            group.spawn(std::future::poll_fn(move |cx| {
                *stored.borrow_mut() = Some(cx.waker().clone());
                Poll::Ready(Ok::<_, ()>(()))
            }));
            spawn_second.wait(()).await;
            let wait = gate.wait(());
            // The body stays (awaiting the handle), so the newcomer takes
            // the first child's slot, not the body's.
            group
                .spawn(async move {
                    wait.await;
                    Ok(())
                })
                .await
                .unwrap();
            Ok(())
        }
    });
    let (waker, _) = counting_waker();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending()); // the first child ends
    spawn_second.open();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending()); // the body spawns again
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending()); // the second child parks
    assert_eq!(gate.polls(), 1);
    stored.borrow_mut().take().unwrap().wake();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    assert_eq!(gate.polls(), 1, "the stale wake polled nobody");
    gate.open();
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending()); // the child ends
    assert!(matches!(
        poll_once(Pin::new(&mut group), &waker), // the body ends
        Poll::Ready(Ok(()))
    ));
}

/// A child that wakes itself and finishes in the same poll leaves its
/// waker unshared, so it is reused for the next child — with its "queued"
/// flag cleared, or the newcomer's first wake would be taken for a
/// duplicate and lost.
#[test]
fn a_reused_waker_delivers_the_next_childs_first_wake() {
    let gate = Gate::new();
    let mut group = task_group({
        let gate = gate.clone();
        move |group| async move {
            group.spawn(std::future::poll_fn(|cx| {
                cx.waker().wake_by_ref();
                Poll::Ready(Ok::<_, ()>(()))
            }));
            yield_once().await; // the first child runs and ends
            let wait = gate.wait(());
            // The body stays (awaiting the handle), so the one spare waker
            // is the first child's, and the newcomer gets it.
            group
                .spawn(async move {
                    wait.await;
                    Ok(())
                })
                .await
                .unwrap();
            Ok(())
        }
    });
    let (waker, parent_wakes) = counting_waker();
    while gate.polls() == 0 {
        assert!(poll_once(Pin::new(&mut group), &waker).is_pending());
    }
    let before = parent_wakes.count();
    gate.open();
    assert_eq!(
        parent_wakes.count(),
        before + 1,
        "the second child's wake got through"
    );
    assert!(poll_once(Pin::new(&mut group), &waker).is_pending()); // the child ends
    assert!(matches!(
        poll_once(Pin::new(&mut group), &waker), // the body ends
        Poll::Ready(Ok(()))
    ));
}
