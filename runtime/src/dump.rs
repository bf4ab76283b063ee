//! The task dump: every live task, what it waits on, and who awaits whom —
//! spindle's `python -m asyncio ps` and `pstree`.
//!
//! A [`TaskDump`] is a snapshot the loop takes of its task list
//! (`Core::dump` in `executor.rs`): plain data, `Send`, so it can be
//! answered to another thread ([`Handle::dump`](crate::Handle::dump)) and
//! printed anywhere. Its `Display` is a table, one row per task:
//!
//! ```text
//! spindle tasks at 0.000s (virtual time): 3 live
//!   id  name      state    waits on         awaited by  spawned at
//!    0  main      waiting  task 1 (worker)  -           src/main.rs:9
//!    1  worker    waiting  Queue#1.get      0           src/main.rs:5
//!    2  -         ready    -                -           src/main.rs:7
//! ```
//!
//! and [`TaskDump::tree`] turns the "waits on a task" records (a
//! `JoinHandle` being awaited) into an awaited-by tree:
//!
//! ```text
//! task 1 (worker) waits on Queue#1.get
//! └── awaited by task 0 (main)
//! ```
//!
//! A task keeps one wait record (`wait.rs`), so it awaits at most one other
//! task here: the edges form chains that can branch (several tasks awaiting
//! one) and can close into a loop. A loop of tasks each awaiting the next
//! can never end: the tree prints it as a deadlock.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::wait::Seconds;

/// A snapshot of a runtime's live tasks: [`Runtime::dump`](crate::Runtime::dump),
/// [`Handle::dump`](crate::Handle::dump).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use spindle::{sleep, spawn_named, yield_now, Runtime, TaskState};
///
/// let runtime = Runtime::builder().virtual_time(true).build()?;
/// runtime.block_on(async {
///     let napper = spawn_named("napper", sleep(Duration::from_secs(2)));
///     yield_now().await; // the napper runs once and parks
///
///     let dump = spindle::Handle::current().dump();
///     let row = dump.task(1).unwrap();
///     assert_eq!(row.name(), Some("napper"));
///     assert_eq!(row.state(), TaskState::Waiting);
///     assert_eq!(row.waits_on(), Some("sleep until 2.000s"));
///     assert_eq!(dump.task(0).unwrap().state(), TaskState::Running); // main asked
///     napper.await.unwrap();
/// });
/// # std::io::Result::Ok(())
/// ```
#[derive(Clone, Debug)]
pub struct TaskDump {
    pub(crate) at: Duration,
    pub(crate) virtual_time: bool,
    pub(crate) tasks: Vec<TaskRow>,
}

/// One live task in a [`TaskDump`].
#[derive(Clone, Debug)]
pub struct TaskRow {
    pub(crate) id: u64,
    pub(crate) name: Option<String>,
    pub(crate) state: TaskState,
    pub(crate) waits_on: Option<String>,
    pub(crate) awaits: Option<u64>,
    pub(crate) spawned_at: String,
}

/// What a live task is doing at the moment of the dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Being polled: the task that asked for the dump.
    Running,
    /// In the ready queue: it will be polled this turn or the next.
    Ready,
    /// Neither: it runs again only when something wakes it.
    Waiting,
}

impl TaskRow {
    /// The task's id, as in traces and `JoinError`s (`main` is 0).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The name given to `spawn_named` (`main` for the `block_on` future).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Running, ready or waiting.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// What the task waits on, as recorded by the future that returned
    /// `Pending` in its last poll (`Queue#3.get`, `sleep until 2.000s`,
    /// `task 5 (consumer)`); `None` if that future records nothing (one from
    /// another crate) or the task has not waited yet.
    pub fn waits_on(&self) -> Option<&str> {
        self.waits_on.as_deref()
    }

    /// The id of the task whose `JoinHandle` this task awaits.
    pub fn awaits(&self) -> Option<u64> {
        self.awaits
    }

    /// Where the task was spawned, as `file:line` (for `main`, where
    /// `block_on` or `run` was called).
    pub fn spawned_at(&self) -> &str {
        &self.spawned_at
    }

    /// `task 3 (worker)`, or `task 3`.
    fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("task {} ({name})", self.id),
            None => format!("task {}", self.id),
        }
    }
}

impl TaskDump {
    /// The dump of a runtime that is gone.
    pub(crate) fn empty() -> TaskDump {
        TaskDump {
            at: Duration::ZERO,
            virtual_time: false,
            tasks: Vec::new(),
        }
    }

    /// Every live task, in id order (spawn order).
    pub fn tasks(&self) -> &[TaskRow] {
        &self.tasks
    }

    /// The task with this id, if it is live.
    pub fn task(&self, id: u64) -> Option<&TaskRow> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The ids of the live tasks that await task `id`'s `JoinHandle`.
    pub fn awaited_by(&self, id: u64) -> Vec<u64> {
        self.tasks
            .iter()
            .filter(|t| t.awaits == Some(id))
            .map(|t| t.id)
            .collect()
    }

    /// Every loop of tasks each awaiting the next one's `JoinHandle`: none
    /// of them can ever finish. Each loop is listed once, from its lowest id.
    pub fn deadlocks(&self) -> Vec<Vec<u64>> {
        let awaits: BTreeMap<u64, u64> = self
            .tasks
            .iter()
            .filter_map(|t| Some((t.id, t.awaits?)))
            .collect();
        let mut cycles = Vec::new();
        for &start in awaits.keys() {
            // Walk from `start`; a loop through `start` comes back to it
            // without meeting a lower id (else it was listed from that one).
            let mut path = vec![start];
            let mut at = start;
            while let Some(&next) = awaits.get(&at) {
                if next == start {
                    cycles.push(path);
                    break;
                }
                if next < start || path.contains(&next) {
                    break;
                }
                path.push(next);
                at = next;
            }
        }
        cycles
    }

    /// The awaited-by tree, like `python -m asyncio pstree`: each task that
    /// awaits no other task is a root, with the tasks awaiting it beneath
    /// it, and so on; loops of tasks awaiting each other print as deadlocks.
    pub fn tree(&self) -> Tree<'_> {
        Tree(self)
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clock = if self.virtual_time {
            "virtual time"
        } else {
            "real time"
        };
        writeln!(
            f,
            "spindle tasks at {} ({clock}): {} live",
            Seconds(self.at),
            self.tasks.len()
        )?;
        let rows: Vec<[String; 6]> = self
            .tasks
            .iter()
            .map(|t| {
                let by = self.awaited_by(t.id);
                [
                    t.id.to_string(),
                    t.name.clone().unwrap_or_else(|| "-".into()),
                    match t.state {
                        TaskState::Running => "running",
                        TaskState::Ready => "ready",
                        TaskState::Waiting => "waiting",
                    }
                    .into(),
                    t.waits_on.clone().unwrap_or_else(|| "-".into()),
                    if by.is_empty() {
                        "-".into()
                    } else {
                        by.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
                    },
                    t.spawned_at.clone(),
                ]
            })
            .collect();
        let header = [
            "id",
            "name",
            "state",
            "waits on",
            "awaited by",
            "spawned at",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 6]| {
            write!(f, "  {:>w$}", cells[0], w = widths[0])?;
            for (cell, width) in cells[1..5].iter().zip(&widths[1..5]) {
                write!(f, "  {cell:<width$}")?;
            }
            writeln!(f, "  {}", cells[5])
        };
        line(f, header)?;
        for row in &rows {
            line(f, row.each_ref().map(String::as_str))?;
        }
        Ok(())
    }
}

/// The awaited-by tree of a [`TaskDump`], for printing ([`TaskDump::tree`]).
pub struct Tree<'a>(&'a TaskDump);

impl Tree<'_> {
    fn branch(
        &self,
        f: &mut fmt::Formatter<'_>,
        id: u64,
        prefix: &str,
        seen: &mut Vec<u64>,
    ) -> fmt::Result {
        // `seen` holds the path so far (and, under a deadlock, the loop):
        // those are printed already.
        let by: Vec<u64> = self
            .0
            .awaited_by(id)
            .into_iter()
            .filter(|child| !seen.contains(child))
            .collect();
        for (i, &child) in by.iter().enumerate() {
            let last = i + 1 == by.len();
            let Some(row) = self.0.task(child) else {
                continue;
            };
            writeln!(
                f,
                "{prefix}{}awaited by {}",
                if last { "└── " } else { "├── " },
                row.label()
            )?;
            seen.push(child);
            let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
            self.branch(f, child, &deeper, seen)?;
        }
        Ok(())
    }
}

impl fmt::Display for Tree<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dump = self.0;
        for root in dump.tasks.iter().filter(|t| t.awaits.is_none()) {
            match (&root.waits_on, root.state) {
                (_, TaskState::Running) => writeln!(f, "{} is running", root.label())?,
                (_, TaskState::Ready) => writeln!(f, "{} is ready", root.label())?,
                (Some(on), TaskState::Waiting) => writeln!(f, "{} waits on {on}", root.label())?,
                (None, TaskState::Waiting) => writeln!(
                    f,
                    "{} waits on something that records no reason",
                    root.label()
                )?,
            }
            self.branch(f, root.id, "", &mut vec![root.id])?;
        }
        for cycle in dump.deadlocks() {
            let mut names: Vec<String> = cycle
                .iter()
                .filter_map(|id| dump.task(*id).map(TaskRow::label))
                .collect();
            names.push(names[0].clone());
            writeln!(f, "deadlock: {} (each awaits the next)", names.join(" → "))?;
            // Tasks awaiting a task of the loop are stuck with it.
            for id in &cycle {
                self.branch(f, *id, "", &mut cycle.clone())?;
            }
        }
        Ok(())
    }
}
