#if canImport(CJemalloc)
import CJemalloc
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `ratel` is linked with jemalloc, which then serves every malloc in the process (the Swift
/// runtime's included). Under glibc's allocator the server froze for 50-150 ms at a time: the
/// objects of a burst of calls are freed by other threads than the event loop that made them,
/// and glibc sorts such freed blocks into its bins only when that loop next allocates, hundreds
/// of thousands at once. With fastbins on, it merged them in `malloc_consolidate`; with them off,
/// in `_int_malloc` (92% of an event loop's time for the first 50 ms of the benchmark's
/// half-peak phase, every datagram waiting). jemalloc files freed blocks by size through
/// per-thread caches of bounded size, so there is never a backlog to sort; it also spent 2-5 µs
/// less per request.
enum Allocator {
    /// jemalloc's version when it is the allocator malloc reaches; nil when it is not (a build
    /// without it, or another allocator preloaded).
    static var jemallocVersion: String? {
        #if canImport(CJemalloc)
        var version: UnsafePointer<CChar>?
        var length = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &version, &length, nil, 0) == 0, let version else { return nil }
        // Linked is not enough: the process's malloc (what the Swift runtime calls too) must be its.
        guard let library = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD) else { return nil }
        defer { dlclose(library) }
        guard let jemallocMalloc = dlsym(library, "malloc"), dlsym(nil, "malloc") == jemallocMalloc else { return nil }
        return String(cString: version)
        #else
        return nil
        #endif
    }
}
