#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include "floor_datagrams.h"

enum { most = 64 };

int floor_receive(int descriptor, void *buffers, size_t stride, int count, struct sockaddr_storage *senders,
                  socklen_t *sender_lengths, size_t *lengths) {
    struct mmsghdr headers[most];
    struct iovec vectors[most];
    if (count > most) count = most;
    memset(headers, 0, sizeof(headers));
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)buffers + stride * i;
        vectors[i].iov_len = stride;
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
        headers[i].msg_hdr.msg_name = &senders[i];
        headers[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    }
    int received = recvmmsg(descriptor, headers, count, MSG_WAITFORONE, NULL);
    for (int i = 0; i < received; i++) {
        lengths[i] = headers[i].msg_len;
        sender_lengths[i] = headers[i].msg_hdr.msg_namelen;
    }
    return received;
}

int floor_send(int descriptor, void *const *buffers, const size_t *lengths, const struct sockaddr_storage *receivers,
               const socklen_t *receiver_lengths, int count) {
    struct mmsghdr headers[most];
    struct iovec vectors[most];
    if (count > most) count = most;
    memset(headers, 0, sizeof(headers));
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = buffers[i];
        vectors[i].iov_len = lengths[i];
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
        headers[i].msg_hdr.msg_name = (void *)&receivers[i];
        headers[i].msg_hdr.msg_namelen = receiver_lengths[i];
    }
    int sent = 0;
    while (sent < count) {
        int now = sendmmsg(descriptor, headers + sent, count - sent, 0);
        if (now <= 0) break;
        sent += now;
    }
    return sent;
}
