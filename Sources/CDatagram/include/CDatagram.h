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

/// Sends `count` datagrams on `descriptor` with as few sendmmsg calls as it takes.
/// Returns how many were sent from the start of the list; if that is fewer than `count`, the
/// next one failed and `*error` holds its errno (EAGAIN: the socket's send buffer is full).
unsigned int ratel_send_datagrams(int descriptor, const struct ratel_datagram *datagrams, unsigned int count,
                                  int *error);

#endif
