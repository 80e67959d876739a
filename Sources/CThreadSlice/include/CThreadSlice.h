#ifndef RATEL_CTHREADSLICE_H
#define RATEL_CTHREADSLICE_H

/// Asks the scheduler to give the calling thread the shortest time slices it allows, 0.1 ms
/// (Linux 6.12 and later; the default is 1.4 ms on these two-core machines). For the threads
/// replies wait on, which wake for bursts of tens of microseconds: with a short slice such a
/// thread runs soon after it wakes instead of waiting behind a busy one for its whole slice. It
/// gets no larger share of the CPU. Keeps the thread's policy and nice value; leaves a real-time
/// thread alone. Returns 0, or the errno of the refusal (a kernel without per-thread slices
/// ignores the request; either way the thread runs as before).
int ratel_request_shortest_slices(void);

/// Names the calling thread for `top -H` and /proc, cut to the 15 bytes Linux keeps (it refuses a
/// longer name outright). Foundation's `Thread.name` did not do: set before `start()` it never
/// reached the kernel here, and set from inside the thread it was missing for two threads of
/// four in one CI run (seemingly when the thread ran before `start()` had stored its handle).
/// Returns 0 or an errno.
int ratel_name_this_thread(const char *name);

#endif
