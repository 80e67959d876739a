#ifndef FLOOR_DATAGRAMS_H
#define FLOOR_DATAGRAMS_H

#include <stddef.h>
#include <sys/socket.h>

/// Up to `count` (at most 64) datagrams in one recvmmsg, blocking for the first: each into its
/// `stride`-sized slot of `buffers`, its length in `lengths` and its sender in `senders`.
int floor_receive(int descriptor, void *buffers, size_t stride, int count, struct sockaddr_storage *senders,
                  socklen_t *sender_lengths, size_t *lengths);

/// Sends `count` (at most 64) datagrams with as few sendmmsg calls as it takes; returns how many went.
int floor_send(int descriptor, void *const *buffers, const size_t *lengths, const struct sockaddr_storage *receivers,
               const socklen_t *receiver_lengths, int count);

#endif
