#define _GNU_SOURCE
#include "CDatagram.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#if defined(__linux__)
#include <linux/filter.h>
#include <netinet/udp.h>
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

enum {
    messages_per_call = 64,
    datagrams_per_call = 256,
    // The kernel's UDP_MAX_SEGMENTS, and a total that fits one IP datagram.
    segments_per_message = 64,
    bytes_per_message = 60000,
    // Each segment leaves as a packet of its own, never fragmented: one larger than the route's
    // MTU is refused (EINVAL), where a lone datagram would be fragmented. This fits IPv6's
    // minimum MTU (1280) with its headers; a larger reply travels alone.
    largest_segment = 1200,
};

int ratel_can_segment(int descriptor) {
    int size = 0;
    socklen_t length = sizeof(size);
    return getsockopt(descriptor, SOL_UDP, UDP_SEGMENT, &size, &length) == 0;
}

/// Set once a segmented send came back EIO (a route through a device without checksum offload,
/// or IPsec): from then on every datagram travels alone.
static int segmenting_refused = 0;

static int same_destination(const struct ratel_datagram *a, const struct ratel_datagram *b) {
    return a->address_length == b->address_length && memcmp(a->address, b->address, a->address_length) == 0;
}

unsigned int ratel_send_datagrams(int descriptor, const struct ratel_datagram *datagrams, unsigned int count,
                                  int segment, int *error) {
    struct mmsghdr messages[messages_per_call];
    struct iovec vectors[datagrams_per_call];
    union {
        char bytes[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr alignment;
    } controls[messages_per_call];
    unsigned int carried[messages_per_call];
    unsigned int sent = 0;
    int refused_here = 0;
    *error = 0;
    while (sent < count) {
        int segmenting = segment && !refused_here && !__atomic_load_n(&segmenting_refused, __ATOMIC_RELAXED);
        unsigned int planned = 0, used = 0, next = sent;
        memset(messages, 0, sizeof(messages));
        while (next < count && planned < messages_per_call && used < datagrams_per_call) {
            const struct ratel_datagram *first = &datagrams[next];
            unsigned int group = 1;
            size_t total = first->length;
            // Datagrams of one size to one destination travel as one (UDP_SEGMENT): the kernel
            // routes and queues them once and cuts them apart on the way, so the receiver still
            // gets each one on its own.
            while (segmenting && next + group < count && group < segments_per_message && used + group < datagrams_per_call &&
                   first->length > 0 && first->length <= largest_segment && datagrams[next + group].length == first->length &&
                   total + first->length <= bytes_per_message && same_destination(first, &datagrams[next + group])) {
                total += first->length;
                group++;
            }
            struct msghdr *header = &messages[planned].msg_hdr;
            header->msg_name = (void *)first->address;
            header->msg_namelen = first->address_length;
            header->msg_iov = &vectors[used];
            header->msg_iovlen = group;
            for (unsigned int i = 0; i < group; i++) {
                vectors[used + i].iov_base = (void *)datagrams[next + i].bytes;
                vectors[used + i].iov_len = datagrams[next + i].length;
            }
            if (group > 1) {
                header->msg_control = controls[planned].bytes;
                header->msg_controllen = sizeof(controls[planned].bytes);
                struct cmsghdr *control = CMSG_FIRSTHDR(header);
                control->cmsg_level = SOL_UDP;
                control->cmsg_type = UDP_SEGMENT;
                control->cmsg_len = CMSG_LEN(sizeof(uint16_t));
                uint16_t size = (uint16_t)first->length;
                memcpy(CMSG_DATA(control), &size, sizeof(size));
            }
            carried[planned] = group;
            planned++;
            used += group;
            next += group;
        }
        int result = sendmmsg(descriptor, messages, planned, MSG_DONTWAIT);
        if (result < 0) {
            if (errno == EINTR) continue;
            // A segmented message refused as a whole (EIO: no checksum offload on the route, or
            // IPsec, for good; EINVAL: say a route MTU below the segment) goes again unsegmented,
            // so a datagram the kernel itself refuses is reported alone.
            if ((errno == EIO || errno == EINVAL) && carried[0] > 1) {
                if (errno == EIO) __atomic_store_n(&segmenting_refused, 1, __ATOMIC_RELAXED);
                refused_here = 1;
                continue;
            }
            *error = errno;
            return sent;
        }
        // Fewer than asked: the next call sends on or reports why the next message failed.
        for (int i = 0; i < result; i++) sent += carried[i];
    }
    return sent;
}

int ratel_spread_by_identifier(int descriptor, unsigned int sockets) {
    if (sockets < 2) return 0;
    // The kernel runs a reuseport program on the UDP payload: octet 1 is the RADIUS Identifier.
    // A datagram too short to have one makes the load fail, the program return 0 and the
    // datagram go to the first socket, where it is dropped as a runt like anywhere else.
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 1),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, sockets),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog program = { .len = sizeof code / sizeof code[0], .filter = code };
    return setsockopt(descriptor, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program) == 0 ? 0 : errno;
}
#else
int ratel_spread_by_identifier(int descriptor, unsigned int sockets) {
    (void)descriptor;
    (void)sockets;
    return 0;
}

int ratel_can_segment(int descriptor) {
    (void)descriptor;
    return 0;
}

unsigned int ratel_send_datagrams(int descriptor, const struct ratel_datagram *datagrams, unsigned int count,
                                  int segment, int *error) {
    (void)segment;
    *error = 0;
    for (unsigned int sent = 0; sent < count; sent++) {
        const struct ratel_datagram *datagram = &datagrams[sent];
        while (sendto(descriptor, datagram->bytes, datagram->length, MSG_DONTWAIT, datagram->address, datagram->address_length) < 0) {
            if (errno == EINTR) continue;
            *error = errno;
            return sent;
        }
    }
    return count;
}
#endif

enum { largest_receive = 64 };

int ratel_receive_datagrams(int descriptor, struct ratel_received *received, unsigned int count, void *buffer,
                            size_t slot_size, int *error) {
    struct mmsghdr messages[largest_receive];
    struct iovec vectors[largest_receive];
    if (count > largest_receive) count = largest_receive;
    for (unsigned int i = 0; i < count; i++) {
        vectors[i].iov_base = (char *)buffer + (size_t)i * slot_size;
        vectors[i].iov_len = slot_size;
        memset(&messages[i], 0, sizeof(messages[i]));
        messages[i].msg_hdr.msg_name = &received[i].source;
        messages[i].msg_hdr.msg_namelen = sizeof(received[i].source);
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int arrived;
#if defined(__linux__)
    do {
        arrived = recvmmsg(descriptor, messages, count, MSG_WAITFORONE, NULL);
    } while (arrived < 0 && errno == EINTR);
#else
    do {
        ssize_t length = recvmsg(descriptor, &messages[0].msg_hdr, 0);
        arrived = length < 0 ? -1 : 1;
        if (length >= 0) messages[0].msg_len = (unsigned int)length;
    } while (arrived < 0 && errno == EINTR);
#endif
    if (arrived < 0) {
        *error = errno;
        return -1;
    }
    for (int i = 0; i < arrived; i++) {
        size_t length = messages[i].msg_len;
        received[i].length = length > slot_size ? slot_size : length;
        received[i].source_length = messages[i].msg_hdr.msg_namelen;
    }
    *error = 0;
    return arrived;
}
