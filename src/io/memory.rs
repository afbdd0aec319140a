//! The process's memory: the allocator, and the memory a stage freed given back to the system
//! before the next one.
//!
//! mimalloc rather than the system's allocator: polars' short-lived buffers on both cores, and
//! the plans and reasons a million students keep, fragmented glibc's arenas. At 1,000,000
//! students mimalloc gave the same outputs in less time and at a lower peak (docs/performance.md,
//! "What the students keep, and the allocator"). It keeps freed memory for a second before returning it; a partition's
//! course records are hundreds of MB, so the stages return them at once ([`return_freed`]).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Returns the memory freed so far to the system, so that what the next stage allocates does
/// not add to what the last one no longer holds. A few milliseconds; called between stages and
/// partitions, not inside them.
pub fn return_freed() {
    // Memory a thread frees that another allocated goes back to the allocating thread's heap
    // when that thread next allocates: each worker of polars' pool and of rayon's collects its
    // own.
    polars_core::runtime::THREAD_POOL.broadcast(|_| collect());
    rayon::broadcast(|_| collect());
    collect();
}

/// Frees what this thread's heap holds unused, and purges the pages freed so far.
fn collect() {
    // SAFETY: mi_collect takes no pointer and has no precondition: any thread may call it at
    // any time (mimalloc's documentation).
    unsafe { libmimalloc_sys::mi_collect(true) }
}
