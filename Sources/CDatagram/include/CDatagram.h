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

#endif
