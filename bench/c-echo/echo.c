/*
 * The floor for the echo benchmark: a minimal AudioSocket echo on epoll, one read per
 * readiness event and one write per audio frame, no pacing, no JavaScript, no conversion.
 * Whatever a real server spends beyond this is its own overhead; what this spends is the
 * kernel's TCP work on loopback, which every server pays. Built and run by bench/table.mjs.
 *
 *   cc -O2 -o bench/c-echo/c-echo bench/c-echo/echo.c && bench/c-echo/c-echo 127.0.0.1 0
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

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
    size_t at = 0, size;
    while ((size = whole_message(c->buf + at, c->len - at)) > 0) {
        unsigned char kind = c->buf[at];
        if (kind == 0x00) return 0;
        if (kind == 0x10 && write(c->fd, c->buf + at, size) < 0 && errno != EAGAIN) return 0;
        at += size;
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    return 1;
}

int main(int argc, char **argv) {
    int listener = open_listener(argc, argv);
    if (listener < 0) return 1;
    int epoll = watch_listener(listener);
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epoll, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept_call(listener)) >= 0) {
                    struct conn *added = calloc(1, sizeof *added);
                    added->fd = fd;
                    watch(epoll, fd, added);
                }
                continue;
            }
            int got = read_more(c->fd, c->buf, &c->len, BUFFER);
            if (got < 0 || (got > 0 && !answer(c))) drop(epoll, c);
        }
    }
}
