//! Work spread over all cores, results in order: used by both shells (a run's files, the language server's
//! workspace scan).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `work` over `items` on all cores; results come back in order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let order: Vec<usize> = (0..items.len()).collect();
    parallel_map_in(items, &order, work)
}

/// [`parallel_map`], starting the heaviest items first (by `weights`, one per item), so that a large one
/// does not start last and keep one core busy while the others are done.
pub fn parallel_map_heaviest_first<T: Sync, R: Send>(
    items: &[T],
    weights: &[u64],
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|i| std::cmp::Reverse(weights.get(*i).copied().unwrap_or(0)));
    parallel_map_in(items, &order, work)
}

/// Runs `work` over `items`, taking them in `order` (indices into `items`); results come back in the
/// items' order.
fn parallel_map_in<T: Sync, R: Send>(items: &[T], order: &[usize], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let taken = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = order.get(taken) else { break };
                        let Some(item) = items.get(i) else { continue };
                        done.push((i, work(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
