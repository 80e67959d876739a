#ifndef RATEL_CTHREADSLICE_H
#define RATEL_CTHREADSLICE_H
#include <stdint.h>

/// Asks the scheduler to give the calling thread time slices of `nanoseconds` (Linux 6.12 and
/// later: a fair-class thread with a short slice runs sooner when it wakes). Keeps the thread's
/// policy and nice value; leaves a real-time thread alone. Returns 0, or the errno of the refusal.
int ratel_request_short_slices(uint64_t nanoseconds);

#endif
