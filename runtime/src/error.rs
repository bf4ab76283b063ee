//! [`JoinError`]: why a task produced no value. A leaf: it knows a task
//! only by the name messages give it.

use std::any::Any;
use std::fmt;

use crate::report::panic_message;

/// Why a task produced no value: it was cancelled, or it panicked.
///
/// One pointer wide: every task keeps room for a `Result<T, JoinError>`, and
/// keeping that small keeps a task allocation in the allocator's fastest
/// size class (see `task/mod.rs`). The box is only allocated on the error path.
pub struct JoinError(Box<Inner>);

struct Inner {
    task: String,
    repr: Repr,
}

enum Repr {
    /// By `JoinHandle::cancel`.
    Cancelled,
    /// Because its runtime shut down (was dropped, or `run` returned) first.
    Shutdown,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    /// `task` is how messages name the task (`TaskRef::describe`).
    pub(crate) fn cancelled(task: String, shutdown: bool) -> JoinError {
        JoinError(Box::new(Inner {
            task,
            repr: if shutdown {
                Repr::Shutdown
            } else {
                Repr::Cancelled
            },
        }))
    }

    pub(crate) fn panic(task: String, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError(Box::new(Inner {
            task,
            repr: Repr::Panic(payload),
        }))
    }

    /// The task was cancelled (by `JoinHandle::cancel` or runtime shutdown).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.0.repr, Repr::Cancelled | Repr::Shutdown)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.0.repr, Repr::Panic(_))
    }

    /// The panic payload, to re-raise with `std::panic::resume_unwind`.
    ///
    /// # Panics
    ///
    /// If the task was cancelled rather than panicking; check
    /// [`is_panic`](JoinError::is_panic) first or use
    /// [`try_into_panic`](JoinError::try_into_panic).
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task's error")
    }

    /// The panic payload, or the error itself if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        if !self.is_panic() {
            return Err(self);
        }
        match self.0.repr {
            Repr::Panic(payload) => Ok(payload),
            Repr::Cancelled | Repr::Shutdown => unreachable!("checked just above"),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.repr {
            Repr::Cancelled => write!(f, "{} was cancelled", self.0.task),
            Repr::Shutdown => write!(f, "{} was cancelled: its runtime shut down", self.0.task),
            Repr::Panic(payload) => match panic_message(payload.as_ref()) {
                Some(message) => write!(f, "{} panicked: {message}", self.0.task),
                None => write!(f, "{} panicked", self.0.task),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.repr {
            Repr::Cancelled | Repr::Shutdown => write!(f, "JoinError::Cancelled({self})"),
            Repr::Panic(payload) => {
                write!(
                    f,
                    "JoinError::Panic({}, {:?})",
                    self.0.task,
                    panic_message(payload.as_ref()).unwrap_or("...")
                )
            }
        }
    }
}

impl std::error::Error for JoinError {}
