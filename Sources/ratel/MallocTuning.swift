#if canImport(CMalloc) && os(Linux)
import CMalloc
#endif

/// glibc keeps small freed blocks in per-arena "fastbins" without merging them, and merges a
/// whole arena's worth at once (`malloc_consolidate`) when that arena's thread next asks for a
/// large block. A server frees hundreds of thousands of small objects a thread allocated (the
/// calls and replies of an accounting burst, freed by another thread), so that thread's next
/// large allocation stalled it for over a hundred milliseconds with requests queued behind it
/// (seen under `perf` at the start of the RADIUS benchmark's half-peak phase). Without fastbins
/// a freed block is merged as it is freed: a little more work per free, no stall.
enum MallocTuning {
    static func disableFastBins() {
        #if canImport(CMalloc) && os(Linux)
        _ = mallopt(M_MXFAST, 0)
        #endif
    }
}
