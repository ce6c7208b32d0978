/* The minimal receiver to compare with: recvmmsg into a file, one datagram per line, nothing else.
 * usage: reader BIND_IP PORT RCVBUF FILE   (SIGTERM flushes and exits) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 256
#define MAXLEN 2048
static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s BIND_IP PORT RCVBUF FILE\n", argv[0]);
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = atoi(argv[3]);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &addr.sin_addr);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr)) {
        perror("bind");
        return 1;
    }
    FILE *out = fopen(argv[4], "a");
    static char bufs[BATCH][MAXLEN];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    while (!stop) {
        memset(msgs, 0, sizeof msgs);
        for (int k = 0; k < BATCH; k++) {
            iov[k].iov_base = bufs[k];
            iov[k].iov_len = MAXLEN;
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        for (int k = 0; k < n; k++) {
            size_t len = msgs[k].msg_len;
            if (len && bufs[k][len - 1] == '\n')
                len--;
            fwrite(bufs[k], 1, len, out);
            fputc('\n', out);
        }
        if (n > 0)
            fflush(out);
    }
    fclose(out);
    return 0;
}
