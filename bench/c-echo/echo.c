/*
 * The floor for the echo benchmark: a minimal AudioSocket echo on epoll, one read per
 * readiness event and one write per audio frame, no pacing, no JavaScript, no conversion.
 * Whatever a real server spends beyond this is its own overhead; what this spends is the
 * kernel's TCP work on loopback, which every server pays. Built and run by bench/table.mjs.
 *
 *   cc -O2 -o bench/c-echo/c-echo bench/c-echo/echo.c && bench/c-echo/c-echo 127.0.0.1 0
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 1024
#define BUFFER 65536

struct conn {
    int fd;
    size_t len;
    unsigned char buf[BUFFER];
};

static void drop(int epoll, struct conn *c) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Answers every whole message in the buffer; returns 0 when the call is over. */
static int answer(struct conn *c) {
    size_t at = 0;
    while (c->len - at >= 3) {
        size_t size = ((size_t)c->buf[at + 1] << 8) | c->buf[at + 2];
        if (c->len - at < 3 + size) break;
        unsigned char kind = c->buf[at];
        if (kind == 0x00) return 0;
        if (kind == 0x10 && write(c->fd, c->buf + at, 3 + size) < 0 && errno != EAGAIN) return 0;
        at += 3 + size;
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    return 1;
}

int main(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 0;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 4096) < 0) {
        perror("listen");
        return 1;
    }
    socklen_t addrlen = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &addrlen);
    printf("listening on %s:%d\n", host, ntohs(addr.sin_port));
    fflush(stdout);

    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epoll, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *added = calloc(1, sizeof *added);
                    added->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = added};
                    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            ssize_t got = read(c->fd, c->buf + c->len, BUFFER - c->len);
            if (got == 0 || (got < 0 && errno != EAGAIN)) {
                drop(epoll, c);
                continue;
            }
            if (got > 0) {
                c->len += (size_t)got;
                if (!answer(c)) drop(epoll, c);
            }
        }
    }
}
