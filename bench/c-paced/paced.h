/*
 * What the paced C echoes share (bench/c-paced on epoll, bench/c-uring on io_uring): a call's
 * state (the bytes read and not yet framed, the echoes queued for the clock, whether audio has
 * begun: silence is sent only after it has), and the four 5 ms beats of the period with the
 * calls each one ticks (a new call joins the beat with the fewest, as in the native engine).
 */
#ifndef C_PACED_H
#define C_PACED_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../c-echo/server.h"

#define READ_BUFFER 65536
/* Bytes of echoes a call may queue (about 50 frames of 8 kHz slin); older ones are dropped. */
#define QUEUE 16384
#define SILENCE_BYTES 320

#define BEATS 4
#define BEAT_NS 5000000LL

struct call {
    int fd;
    int beat;
    int slot;       /* index in its beat's list */
    /* io_uring only: the frame handed to the kernel and not yet reported sent (an echo at the
     * head of out, or silence), and a call whose socket is closed, freed once that is back. */
    size_t sending;
    int sending_echo;
    int closed;
    int started;
    size_t in_len, out_len;
    unsigned char in[READ_BUFFER];
    unsigned char out[QUEUE];
};

static struct call **beats[BEATS];
static int beat_len[BEATS], beat_cap[BEATS];

static inline long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline int call_count(void) {
    return beat_len[0] + beat_len[1] + beat_len[2] + beat_len[3];
}

static inline void join_beat(struct call *c) {
    int beat = 0;
    for (int b = 1; b < BEATS; b++)
        if (beat_len[b] < beat_len[beat]) beat = b;
    if (beat_len[beat] == beat_cap[beat]) {
        beat_cap[beat] = beat_cap[beat] ? beat_cap[beat] * 2 : 256;
        beats[beat] = realloc(beats[beat], beat_cap[beat] * sizeof *beats[beat]);
    }
    c->beat = beat;
    c->slot = beat_len[beat];
    beats[beat][beat_len[beat]++] = c;
}

/* A new call on the accepted socket `fd`, on the beat with the fewest calls. */
static inline struct call *admit(int fd) {
    struct call *c = calloc(1, sizeof *c);
    c->fd = fd;
    join_beat(c);
    return c;
}

static inline void leave_beat(struct call *c) {
    struct call **list = beats[c->beat];
    struct call *last = list[--beat_len[c->beat]];
    list[c->slot] = last;
    last->slot = c->slot;
}

static unsigned char silence[3 + SILENCE_BYTES] = {0x10, SILENCE_BYTES >> 8, SILENCE_BYTES & 0xff};

/* Queues an echo of every whole audio message read; returns 0 when the call is over. */
static inline int take(struct call *q) {
    size_t at = 0, size;
    while ((size = whole_message(q->in + at, q->in_len - at)) > 0) {
        unsigned char kind = q->in[at];
        if (kind == 0x00) return 0;
        if (kind == 0x10) {
            q->started = 1;
            if (q->out_len + size <= QUEUE) {
                memcpy(q->out + q->out_len, q->in + at, size);
                q->out_len += size;
            }
        }
        at += size;
    }
    memmove(q->in, q->in + at, q->in_len - at);
    q->in_len -= at;
    return 1;
}

/* Drops the oldest queued echo, `size` bytes, once it has been sent. */
static inline void sent(struct call *q, size_t size) {
    memmove(q->out, q->out + size, q->out_len - size);
    q->out_len -= size;
}

#endif
