#ifndef CDATAGRAM_H
#define CDATAGRAM_H

#include <stddef.h>
#include <sys/socket.h>

/// One UDP datagram to send: its bytes and where to.
struct ratel_datagram {
    const void *bytes;
    size_t length;
    const struct sockaddr *address;
    socklen_t address_length;
};

/// Whether the kernel can send several same-sized datagrams as one (UDP_SEGMENT, Linux 4.18).
int ratel_can_segment(int descriptor);

/// Makes the kernel deal datagrams out to the `sockets` sockets sharing `descriptor`'s port by
/// their RADIUS Identifier rather than by source address and port, so that one NAS sending from
/// one port is served by every socket, and a retransmission (same Identifier) by the same one.
/// Returns 0, or the errno of a kernel that refused the program.
int ratel_spread_by_identifier(int descriptor, unsigned int sockets);

/// Sends `count` datagrams on `descriptor` with as few sendmmsg calls as it takes; with
/// `segment`, consecutive datagrams of one size to one destination go as one segmented message.
/// Returns how many were sent from the start of the list; if that is fewer than `count`, the
/// next one failed (with the rest of its message) and `*error` holds its errno (EAGAIN: the
/// socket's send buffer is full).
unsigned int ratel_send_datagrams(int descriptor, const struct ratel_datagram *datagrams, unsigned int count,
                                  int segment, int *error);

/// Where one received datagram landed: its length (the slot's size when it was larger) and its source.
struct ratel_received {
    size_t length;
    struct sockaddr_storage source;
    socklen_t source_length;
};

/// Receives up to `count` datagrams on `descriptor` in one recvmmsg, the i-th into the `slot_size`
/// octets at `buffer + i * slot_size`, waiting (on a blocking socket, up to its SO_RCVTIMEO) for the
/// first only. Returns how many arrived, or -1 with `*error` set (EAGAIN: none within the timeout).
int ratel_receive_datagrams(int descriptor, struct ratel_received *received, unsigned int count, void *buffer,
                            size_t slot_size, int *error);

#endif
