//! Returns freed heap memory to the operating system.
//!
//! glibc's malloc keeps what a program frees for its next allocations: each thread's arena gives pages
//! back only from its top, so a few live allocations above a large freed region (a closed 5 MB
//! document's analysis) hold it resident for good. `malloc_trim(0)` releases every free page of every
//! arena. Other allocators and platforms: nothing to do here (`false`).

/// Gives the allocator's free pages back to the operating system; whether any were released.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() -> bool {
    // SAFETY: `malloc_trim` takes a plain integer (the bytes to leave untrimmed at the top of the main
    // heap), reads no pointer of ours, and is thread-safe: it takes each arena's lock in turn.
    #[allow(unsafe_code)]
    let released = unsafe { libc::malloc_trim(0) };
    released == 1
}

/// Gives the allocator's free pages back to the operating system; whether any were released.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}
