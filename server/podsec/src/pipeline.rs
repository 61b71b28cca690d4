//! An ordered, bounded parallel pipeline: items are produced on worker threads and consumed on the
//! calling thread in their order, with at most `window` items in flight, so memory holds a few items,
//! never all of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SendError, SyncSender, sync_channel};
use std::sync::{Condvar, Mutex, PoisonError};

/// How many pieces a producer may have sent ahead of the consumer for one item.
const PIECES_AHEAD: usize = 1;

/// The workers to use: one per core.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[derive(Default)]
struct Progress {
    /// The next item a worker takes.
    next: usize,
    /// Items the consumer is done with.
    consumed: usize,
    /// The consumer failed: take nothing more.
    stopped: bool,
}

/// How far the workers may run ahead of the consumer: at most `items` items in flight, and besides the
/// first one not yet consumed (which always may run), at most `bytes` of their `weights` (the files'
/// sizes: one large file runs alone, many small ones keep every core busy), and only while what has been
/// sent and not yet consumed costs at most `pending` (by the pipeline's `cost`: the findings of a small
/// file may take ten times its size). An item without a weight weighs `bytes`.
#[derive(Clone, Copy, Debug)]
pub struct Window<'w> {
    pub items: usize,
    pub weights: &'w [u64],
    pub bytes: u64,
    pub pending: u64,
}

/// What a producer sends its item's pieces with: each piece's cost counts against the window's
/// `pending` until the consumer is done with the item.
pub struct Sender<'p, T> {
    channel: SyncSender<T>,
    cost: &'p (dyn Fn(&T) -> u64 + Sync),
    item_cost: &'p AtomicU64,
    pending: &'p AtomicU64,
}

impl<T> Sender<'_, T> {
    /// Sends a piece, waiting while the consumer is `PIECES_AHEAD` behind; an error when it stopped.
    pub fn send(&self, piece: T) -> Result<(), SendError<T>> {
        // Counted before it is sent, so that the consumer, done with the item, takes it off again.
        let cost = (self.cost)(&piece);
        self.item_cost.fetch_add(cost, Ordering::SeqCst);
        self.pending.fetch_add(cost, Ordering::SeqCst);
        self.channel.send(piece)
    }
}

impl Window<'_> {
    /// A window of `items` items, whatever their weight and cost.
    #[cfg(test)]
    fn items(items: usize) -> Self {
        Self {
            items,
            weights: &[],
            bytes: u64::MAX,
            pending: u64::MAX,
        }
    }

    /// Whether item `next` may start while `consumed` items are done and what is sent and not consumed
    /// costs `pending`.
    fn admits(&self, consumed: usize, next: usize, pending: u64) -> bool {
        if next >= consumed + self.items.max(1) {
            return false;
        }
        if next == consumed {
            return true;
        }
        if pending > self.pending {
            return false;
        }
        let weight = |i: usize| self.weights.get(i).copied().unwrap_or(self.bytes);
        let in_flight = (consumed..=next).fold(0u64, |sum, i| sum.saturating_add(weight(i)));
        in_flight <= self.bytes
    }
}

/// For each item `0..count`, `produce(index, sender)` runs on a worker and sends the item's pieces;
/// `consume(index, receiver)` runs here, in order, and reads them as they come (the receiver ends when
/// the producer is done). A worker starts an item only when the `window` admits it, and a producer
/// blocks while its consumer is behind, so only the window's items are in memory. The first error of
/// `consume` stops the pipeline and is returned.
pub fn ordered<T: Send, E>(
    count: usize,
    window: Window<'_>,
    cost: impl Fn(&T) -> u64 + Sync,
    produce: impl Fn(usize, &Sender<'_, T>) + Sync,
    mut consume: impl FnMut(usize, Receiver<T>) -> Result<(), E>,
) -> Result<(), E> {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..count)
        .map(|_| {
            let (sender, receiver) = sync_channel(PIECES_AHEAD);
            (Mutex::new(Some(sender)), receiver)
        })
        .unzip();
    let item_costs: Vec<AtomicU64> = (0..count).map(|_| AtomicU64::new(0)).collect();
    let pending = AtomicU64::new(0);
    let cost: &(dyn Fn(&T) -> u64 + Sync) = &cost;
    let progress = Mutex::new(Progress::default());
    let changed = Condvar::new();
    let lock = || progress.lock().unwrap_or_else(PoisonError::into_inner);
    std::thread::scope(|scope| {
        for _ in 0..workers().min(count) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut state = lock();
                        while !state.stopped
                            && state.next < count
                            && !window.admits(state.consumed, state.next, pending.load(Ordering::SeqCst))
                        {
                            state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
                        }
                        if state.stopped || state.next >= count {
                            return;
                        }
                        state.next += 1;
                        state.next - 1
                    };
                    let sender = senders
                        .get(index)
                        .and_then(|s| s.lock().unwrap_or_else(PoisonError::into_inner).take());
                    if let (Some(channel), Some(item_cost)) = (sender, item_costs.get(index)) {
                        let sender = Sender {
                            channel,
                            cost,
                            item_cost,
                            pending: &pending,
                        };
                        produce(index, &sender);
                    }
                }
            });
        }
        let mut result = Ok(());
        for (index, receiver) in receivers.into_iter().enumerate() {
            // The remaining receivers are dropped on an error: a producer blocked on one is released.
            if result.is_ok() {
                result = consume(index, receiver);
            }
            let done = item_costs.get(index).map_or(0, |c| c.load(Ordering::SeqCst));
            pending.fetch_sub(done, Ordering::SeqCst);
            let mut state = lock();
            state.consumed = index + 1;
            state.stopped |= result.is_err();
            changed.notify_all();
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn items_come_in_order_and_no_more_than_the_window_is_in_flight() {
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut seen = Vec::new();
        let result: Result<(), ()> = ordered(
            50,
            Window::items(2),
            |_| 1,
            |index, sender| {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                for piece in 0..3 {
                    let _ = sender.send((index, piece));
                }
            },
            |index, receiver| {
                let pieces: Vec<_> = receiver.iter().collect();
                assert_eq!(pieces, [(index, 0), (index, 1), (index, 2)]);
                in_flight.fetch_sub(1, Ordering::SeqCst);
                seen.push(index);
                Ok(())
            },
        );
        assert_eq!(result, Ok(()));
        assert_eq!(seen, (0..50).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 2, "{most:?}");
    }

    #[test]
    fn a_consumer_error_stops_the_producers() {
        let produced = AtomicUsize::new(0);
        let result = ordered(
            1000,
            Window::items(2),
            |_| 1,
            |_, sender| {
                produced.fetch_add(1, Ordering::SeqCst);
                // Far more pieces than the channel holds: the producer is released by the error.
                for piece in 0..100 {
                    if sender.send(piece).is_err() {
                        return;
                    }
                }
            },
            |index, receiver| {
                let _ = receiver.recv();
                if index == 3 { Err("disk full") } else { Ok(()) }
            },
        );
        assert_eq!(result, Err("disk full"));
        assert!(produced.load(Ordering::SeqCst) <= 6);
    }

    #[test]
    fn the_window_bounds_the_bytes_in_flight_but_always_runs_the_first() {
        let window = Window {
            items: 8,
            weights: &[10, 1, 1, 30, 1, 1],
            bytes: 12,
            pending: 100,
        };
        assert!(window.admits(0, 0, 0) && window.admits(0, 1, 0) && window.admits(0, 2, 0));
        assert!(!window.admits(0, 3, 0), "10 + 1 + 1 + 30 > 12");
        assert!(window.admits(3, 3, 0), "the first runs whatever it weighs");
        assert!(!window.admits(3, 4, 0), "beside a heavy one, nothing");
        assert!(
            window.admits(4, 5, 0) && !window.admits(4, 12, 0),
            "no weight: the whole budget"
        );
        assert!(!Window::items(2).admits(0, 2, 0));
        assert!(
            !window.admits(0, 1, 101),
            "what waits for the consumer costs too much"
        );
        assert!(window.admits(1, 1, 1_000), "but the first always runs");
    }

    #[test]
    fn what_waits_for_the_consumer_bounds_how_far_the_workers_run_ahead() {
        // Each item sends one piece costing 10; at most 25 may wait: besides the first unconsumed item,
        // workers start another only while what waits costs at most 25.
        let waiting = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let window = Window {
            items: 1_000,
            weights: &[],
            bytes: u64::MAX,
            pending: 25,
        };
        let result: Result<(), ()> = ordered(
            200,
            window,
            |_| 10,
            |index, sender| {
                let now = waiting.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                let _ = sender.send(index);
            },
            |index, receiver| {
                // A slow consumer: the workers would otherwise run far ahead.
                std::thread::sleep(std::time::Duration::from_micros(200));
                assert_eq!(receiver.iter().collect::<Vec<_>>(), [index]);
                waiting.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            },
        );
        assert_eq!(result, Ok(()));
        // 3 sent and waiting (30 > 25 stops a fourth), plus one per worker already started.
        let bound = 3 + workers() + 1;
        assert!(most.load(Ordering::SeqCst) <= bound, "{most:?} > {bound}");
    }
}
