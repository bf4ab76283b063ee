//! Cheatsheet §3 — producer and consumer around an `asyncio.Queue`.
//!
//! ```text
//! cargo run --release --example 03_queue
//! ```
//!
//! The producer puts an event every second; the consumer takes each one and
//! marks it done. `main` waits for the producer, then for the queue to be
//! drained (`join`), then cancels the consumer, which is still waiting in
//! `get`. "Produced" prints before "Consumed" because `put` on a queue with
//! room never yields: the consumer only runs once the producer sleeps.
//! Run it with `SPINDLE_TRACE=traces/queue.json` to see that hand-off in
//! Perfetto.

use std::time::Duration;

use spindle::{sleep, spawn_named, Queue};

async fn producer(queue: Queue<String>) {
    for i in 0..5 {
        sleep(Duration::from_secs(1)).await; // await asyncio.sleep(1)
        let event = format!("Event {}", i + 1);
        queue.put(event.clone()).await; // await queue.put(event)
        println!("Produced: {event}");
    }
}

async fn consumer(queue: Queue<String>) {
    loop {
        let event = queue.get().await; // event = await queue.get()
        println!("Consumed: {event}");
        queue.task_done().expect("one task_done per get"); // queue.task_done()
    }
}

fn main() {
    // asyncio.run(main())
    spindle::run(async {
        let queue = Queue::new(); // asyncio.Queue(): unbounded

        // asyncio.create_task(producer(queue), name="producer"): the names label
        // the trace's lanes. A cloned handle shares the same queue.
        let producer_task = spawn_named("producer", producer(queue.clone()));
        let consumer_task = spawn_named("consumer", consumer(queue.clone()));

        producer_task.await.expect("the producer does not fail"); // await producer_task
        queue.join().await; // await queue.join()
        consumer_task.cancel(); // consumer_task.cancel()
    });
}
