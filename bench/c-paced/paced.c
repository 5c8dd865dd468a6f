/*
 * The floor for a server that paces: a minimal AudioSocket echo whose answers leave on a 20 ms
 * clock, as the native engine's do, instead of the instant each frame arrives (bench/c-echo).
 * The loop is the engine's (crate/engine/src/event_loop.rs) with nothing else: one thread that
 * wakes on four 5 ms beats, harvests every readable socket with one epoll_wait, reads each once,
 * and writes one frame (the oldest echo queued, or silence) for every call of the beat that is
 * due. No JavaScript, no conversion, no events. What the native engine spends beyond this is its
 * own overhead; what this spends beyond bench/c-echo is the price of pacing itself: a paced
 * frame reaches its peer when the peer is asleep, and the sender pays for the wake-up.
 *
 *   cc -O2 -o bench/c-paced/c-paced bench/c-paced/paced.c && bench/c-paced/c-paced 127.0.0.1 0
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "paced.h"

#define MAX_EVENTS 4096

static void drop(int epoll, struct call *c) {
    leave_beat(c);
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* One frame for the call: its oldest queued echo, or silence once audio has begun. */
static void tick(struct call *c) {
    if (!c->started) return;
    if (c->out_len == 0) {
        (void)!write(c->fd, silence, sizeof silence);
        return;
    }
    size_t frame = whole_message(c->out, c->out_len);
    (void)!write(c->fd, c->out, frame);
    sent(c, frame);
}

int main(int argc, char **argv) {
    int listener = open_listener(argc, argv);
    if (listener < 0) return 1;
    int epoll = watch_listener(listener);
    struct epoll_event events[MAX_EVENTS];
    long long next_beat = 0; /* deadline of the next beat; 0: no calls, the clock is stopped */
    int beat = 0;
    for (;;) {
        int calls = call_count();
        if (calls > 0) {
            if (next_beat == 0) next_beat = now_ns();
            struct timespec at = {.tv_sec = next_beat / 1000000000LL, .tv_nsec = next_beat % 1000000000LL};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        } else {
            next_beat = 0;
        }
        int n;
        do {
            n = epoll_wait(epoll, events, MAX_EVENTS, calls > 0 ? 0 : -1);
            for (int i = 0; i < n; i++) {
                struct call *c = events[i].data.ptr;
                if (c == NULL) {
                    int fd;
                    while ((fd = accept_call(listener)) >= 0) watch(epoll, fd, admit(fd));
                    continue;
                }
                int got = read_more(c->fd, c->in, &c->in_len, READ_BUFFER);
                if (got < 0 || (got > 0 && !take(c))) drop(epoll, c);
            }
        } while (n == MAX_EVENTS);
        if (next_beat == 0 || now_ns() < next_beat) continue;
        /* One beat per wake; after a stall the clock skips to the present, as the engine's does. */
        for (int i = 0; i < beat_len[beat]; i++) tick(beats[beat][i]);
        beat = (beat + 1) % BEATS;
        next_beat += BEAT_NS;
        long long now = now_ns();
        if (next_beat < now - 3 * BEATS * BEAT_NS) next_beat = now;
    }
}
