/* Sends realistic netconsole datagrams (plain, extended, fragmented) with sendmmsg, from SRC to DST.
 * usage: blaster SRC_IP SRC_PORT DST_IP DST_PORT COUNT RATE DURATION
 *   COUNT datagrams at RATE per second (0: as fast as possible); with DURATION > 0 seconds, send for that
 *   long instead of COUNT. Prints "sent N seconds S". Datagram i is a pure function of i (see line()),
 *   so the receiver's file can be checked byte for byte. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXLEN 1100

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* About 95 bytes for the usual lines; every 50th message is a 1,200-byte line split in two fragments. */
int line(long i, char *buf) {
    long ts = 1000000 + i * 37;
    int kind = i % 50;
    if (kind == 48 || kind == 49) {
        long msg = i - (kind - 48);
        if (kind == 48)
            return snprintf(buf, MAXLEN, "6,%ld,%ld,-,ncfrag=0/1200;long%07ld:%0*d", msg, ts, msg, 1000 - 48, 0);
        return snprintf(buf, MAXLEN, "6,%ld,%ld,-,ncfrag=1000/1200;%0*dEND%07ld", msg, ts, 200 - 10, 0, msg);
    }
    if (kind % 3 == 0)
        return snprintf(buf, MAXLEN, "[%5ld.%06ld] bench plain line %09ld: eth0: link up, 1000Mbps, full-duplex\n",
                        ts / 1000000, ts % 1000000, i);
    return snprintf(buf, MAXLEN, "6,%ld,%ld,-;bench extended line %09ld: usb 1-1: new high-speed USB device\n",
                    i, ts, i);
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s SRC_IP SRC_PORT DST_IP DST_PORT COUNT RATE DURATION\n", argv[0]);
        return 2;
    }
    long count = atol(argv[5]);
    double rate = atof(argv[6]), duration = atof(argv[7]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[4]))};
    inet_pton(AF_INET, argv[1], &src.sin_addr);
    inet_pton(AF_INET, argv[3], &dst.sin_addr);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) || connect(fd, (struct sockaddr *)&dst, sizeof dst)) {
        perror("bind/connect");
        return 1;
    }
    static char bufs[BATCH][MAXLEN];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    long sent = 0;
    double start = now();
    for (;;) {
        double elapsed = now() - start;
        if (duration > 0 ? elapsed >= duration : sent >= count)
            break;
        if (rate > 0 && sent >= elapsed * rate) {
            continue; /* busy-wait keeps the pace exact at these rates */
        }
        int n = BATCH;
        if (duration <= 0 && count - sent < n)
            n = count - sent;
        if (rate > 0) {
            long allowed = (long)(elapsed * rate) - sent + 1;
            if (allowed < n)
                n = allowed;
        }
        memset(msgs, 0, sizeof msgs);
        for (int k = 0; k < n; k++) {
            iov[k].iov_base = bufs[k];
            iov[k].iov_len = line(sent + k, bufs[k]);
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int done = sendmmsg(fd, msgs, n, 0);
        if (done < 0) {
            perror("sendmmsg");
            return 1;
        }
        sent += done;
    }
    printf("sent %ld seconds %.6f\n", sent, now() - start);
    return 0;
}
