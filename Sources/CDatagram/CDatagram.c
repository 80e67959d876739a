#define _GNU_SOURCE
#include "CDatagram.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#if defined(__linux__)
enum { chunk = 64 };

unsigned int ratel_send_datagrams(int descriptor, const struct ratel_datagram *datagrams, unsigned int count,
                                  int *error) {
    struct mmsghdr messages[chunk];
    struct iovec vectors[chunk];
    unsigned int sent = 0;
    *error = 0;
    while (sent < count) {
        unsigned int batch = count - sent < chunk ? count - sent : chunk;
        memset(messages, 0, sizeof(struct mmsghdr) * batch);
        for (unsigned int i = 0; i < batch; i++) {
            const struct ratel_datagram *datagram = &datagrams[sent + i];
            vectors[i].iov_base = (void *)datagram->bytes;
            vectors[i].iov_len = datagram->length;
            messages[i].msg_hdr.msg_name = (void *)datagram->address;
            messages[i].msg_hdr.msg_namelen = datagram->address_length;
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        int result = sendmmsg(descriptor, messages, batch, 0);
        if (result < 0) {
            if (errno == EINTR) continue;
            *error = errno;
            return sent;
        }
        // Fewer than asked: the next call sends on or reports why the next datagram failed.
        sent += (unsigned int)result;
    }
    return sent;
}
#else
unsigned int ratel_send_datagrams(int descriptor, const struct ratel_datagram *datagrams, unsigned int count,
                                  int *error) {
    *error = 0;
    for (unsigned int sent = 0; sent < count; sent++) {
        const struct ratel_datagram *datagram = &datagrams[sent];
        while (sendto(descriptor, datagram->bytes, datagram->length, 0, datagram->address, datagram->address_length) < 0) {
            if (errno == EINTR) continue;
            *error = errno;
            return sent;
        }
    }
    return count;
}
#endif
