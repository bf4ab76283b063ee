//! How a task group reports what went wrong: a [`GroupError`] holding every
//! [`Failure`] in the order they happened, each an `Err` a child (or the
//! body) returned, or a panic the group caught — asyncio's
//! `ExceptionGroup`, which `except*` takes apart.

use std::any::Any;
use std::fmt;
use std::sync::Mutex;

/// The error of a [`task_group`](crate::task_group) that failed: every
/// failure, in the order they happened — asyncio's `ExceptionGroup`.
///
/// The first failure is the one that made the group cancel everything
/// else; the ones after it came from members that panicked while being
/// cancelled (their `Drop`). Cancelled members are not failures.
///
/// # Examples
///
/// ```
/// use spindle::{task_group, Failure};
///
/// let outcome = futures_executor::block_on(task_group(|group| async move {
///     group.spawn(async { Err::<(), _>("c failed") });
///     Ok(())
/// }));
/// let error = outcome.unwrap_err();
/// for failure in error.failures() {
///     assert!(matches!(failure, Failure::Error("c failed")));
/// }
/// assert_eq!(error.to_string(), "a task group failed: c failed");
/// ```
pub struct GroupError<E> {
    /// Never empty: a group fails because of at least one of them.
    failures: Vec<Failure<E>>,
}

/// One thing that went wrong in a task group: an `Err` returned by a child
/// or the body, or a panic of one of them, caught by the group.
#[derive(Debug)]
pub enum Failure<E> {
    /// A child or the body returned `Err(error)`.
    Error(E),
    /// A child or the body panicked: in a poll, or in its `Drop` while it
    /// was being cancelled.
    Panic(PanicPayload),
}

/// The payload of a panic a task group caught, kept so that it can be
/// raised again ([`resume`](Self::resume)) or inspected.
///
/// It is `Send` and `Sync` (the payload sits behind a mutex, its message
/// is copied out at the catch), so a [`GroupError`] can travel to another
/// thread or into `Box<dyn Error + Send + Sync>`.
pub struct PanicPayload(Box<Caught>);

/// What a [`PanicPayload`] holds, behind one pointer: a `Failure` is
/// moved around on every poll result, so it should stay small.
struct Caught {
    /// The panic's message, if the payload was a string (as `panic!` makes).
    message: Option<String>,
    payload: Mutex<Box<dyn Any + Send>>,
}

impl<E> GroupError<E> {
    pub(super) fn new(failures: Vec<Failure<E>>) -> GroupError<E> {
        debug_assert!(!failures.is_empty(), "a group fails for a reason");
        GroupError { failures }
    }

    /// The failures, in the order they happened.
    ///
    /// # Examples
    ///
    /// ```
    /// let outcome = futures_executor::block_on(spindle::task_group(|_group| async { Err::<(), _>(7) }));
    /// assert!(matches!(outcome.unwrap_err().failures(), [spindle::Failure::Error(7)]));
    /// ```
    pub fn failures(&self) -> &[Failure<E>] {
        &self.failures
    }

    /// The failures, in the order they happened, taken out.
    ///
    /// # Examples
    ///
    /// ```
    /// let outcome = futures_executor::block_on(spindle::task_group(|_group| async { Err::<(), _>(7) }));
    /// assert_eq!(outcome.unwrap_err().into_failures().len(), 1);
    /// ```
    pub fn into_failures(self) -> Vec<Failure<E>> {
        self.failures
    }

    /// The `Err` values among the failures, in order, without the panics.
    ///
    /// # Examples
    ///
    /// ```
    /// let outcome = futures_executor::block_on(spindle::task_group(|_group| async { Err::<(), _>("no") }));
    /// assert!(outcome.unwrap_err().errors().eq([&"no"]));
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &E> {
        self.failures.iter().filter_map(Failure::error)
    }

    /// Raises the first caught panic again, as if the group had never
    /// caught it; gives the error back if no failure is a panic. For
    /// callers that treat a panic in a child as a panic of their own:
    /// `task_group(..).await.map_err(GroupError::resume_panic)`.
    ///
    /// # Panics
    ///
    /// With the first panic's payload, if there is one.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{task_group, GroupError};
    ///
    /// let outcome = futures_executor::block_on(task_group(|_group| async { Err::<(), _>("no") }));
    /// let error = outcome.map_err(GroupError::resume_panic).unwrap_err(); // no panic: back
    /// assert_eq!(error.failures().len(), 1);
    /// ```
    pub fn resume_panic(self) -> GroupError<E> {
        let first_panic = self.failures.iter().position(Failure::is_panic);
        match first_panic {
            Some(index) => match self.failures.into_iter().nth(index) {
                Some(Failure::Panic(payload)) => payload.resume(),
                _ => unreachable!("the failure at {index} is a panic"),
            },
            None => self,
        }
    }
}

impl<E> Failure<E> {
    /// Whether this failure is a caught panic.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!spindle::Failure::Error(()).is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, Failure::Panic(_))
    }

    /// The `Err` value, if this failure is one.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::Failure::Error(3).error(), Some(&3));
    /// ```
    pub fn error(&self) -> Option<&E> {
        match self {
            Failure::Error(error) => Some(error),
            Failure::Panic(_) => None,
        }
    }
}

impl PanicPayload {
    pub(super) fn new(payload: Box<dyn Any + Send>) -> PanicPayload {
        let message = payload
            .downcast_ref::<&'static str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned());
        PanicPayload(Box::new(Caught {
            message,
            payload: Mutex::new(payload),
        }))
    }

    /// The panic's message, if its payload was a string — what `panic!`
    /// with a message makes.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{task_group, Failure};
    ///
    /// let outcome = futures_executor::block_on(task_group(|_group| async {
    ///     if true { panic!("boom") }
    ///     Ok::<(), ()>(())
    /// }));
    /// match &outcome.unwrap_err().failures()[0] {
    ///     Failure::Panic(panic) => assert_eq!(panic.message(), Some("boom")),
    ///     Failure::Error(()) => unreachable!(),
    /// }
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// The payload, as `catch_unwind` gave it.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{task_group, Failure};
    ///
    /// let outcome = futures_executor::block_on(task_group(|_group| async {
    ///     if true { std::panic::panic_any(42_u8) }
    ///     Ok::<(), ()>(())
    /// }));
    /// let Some(Failure::Panic(panic)) = outcome.unwrap_err().into_failures().pop() else { panic!() };
    /// assert_eq!(panic.into_inner().downcast_ref::<u8>(), Some(&42));
    /// ```
    pub fn into_inner(self) -> Box<dyn Any + Send> {
        self.0
            .payload
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Raises the panic again, with its original payload
    /// (`std::panic::resume_unwind`).
    ///
    /// # Panics
    ///
    /// Always: that is what it is for.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// use spindle::{task_group, Failure};
    ///
    /// let outcome = futures_executor::block_on(task_group(|_group| async {
    ///     if true { panic!("boom") }
    ///     Ok::<(), ()>(())
    /// }));
    /// if let Some(Failure::Panic(panic)) = outcome.unwrap_err().into_failures().pop() {
    ///     panic.resume(); // panics with "boom" again
    /// }
    /// ```
    pub fn resume(self) -> ! {
        std::panic::resume_unwind(self.into_inner())
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PanicPayload")
            .field("message", &self.0.message)
            .finish_non_exhaustive()
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    /// The error's own `Display`; for a panic, `panicked: <message>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Error(error) => error.fmt(f),
            Failure::Panic(panic) => match panic.message() {
                Some(message) => write!(f, "panicked: {message}"),
                None => f.write_str("panicked"),
            },
        }
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    /// `a task group failed: <first>; <second>; ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a task group failed: ")?;
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            failure.fmt(f)?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for GroupError<E> {}
