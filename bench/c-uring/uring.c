/*
 * The paced C echo (bench/c-paced) on io_uring instead of epoll, read() and write(): the same
 * beats and the same frames, with a beat's system calls batched. Each call keeps one receive in
 * flight. The ring is set up with IORING_SETUP_DEFER_TASKRUN, so a receive whose data has come
 * completes only when the loop asks for completions at its next beat: arrivals cost no wake-up,
 * as with the epoll harvest. A beat then queues its calls' sends and the receives to re-arm,
 * and submits them in one io_uring_enter(). It measures what io_uring takes off the floor of a
 * paced server (BENCHMARKS.md, "The floor for a paced server").
 *
 *   cc -O2 -o bench/c-uring/c-uring bench/c-uring/uring.c && bench/c-uring/c-uring 127.0.0.1 0
 */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../c-paced/paced.h"

#define ENTRIES 4096
/* user_data: the call's address, with the low bit telling a send from a receive. */
#define SEND 1

static struct {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    unsigned queued; /* SQEs queued since the last submission */
} ring;

static int enter(unsigned flags) {
    int submitted = (int)syscall(__NR_io_uring_enter, ring.fd, ring.queued, 0, flags, NULL, 0);
    if (submitted > 0) ring.queued -= (unsigned)submitted;
    return submitted;
}

static void ring_open(void) {
    struct io_uring_params p = {
        .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE,
        .cq_entries = 4 * ENTRIES,
    };
    ring.fd = (int)syscall(__NR_io_uring_setup, ENTRIES, &p);
    if (ring.fd < 0 || !(p.features & IORING_FEAT_SINGLE_MMAP)) {
        perror("io_uring_setup");
        exit(1);
    }
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED | MAP_POPULATE;
    unsigned char *rings = mmap(NULL, sq_size > cq_size ? sq_size : cq_size, prot, flags, ring.fd, IORING_OFF_SQ_RING);
    ring.sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), prot, flags, ring.fd, IORING_OFF_SQES);
    if (rings == MAP_FAILED || ring.sqes == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    ring.sq_head = (unsigned *)(rings + p.sq_off.head);
    ring.sq_tail = (unsigned *)(rings + p.sq_off.tail);
    ring.sq_mask = (unsigned *)(rings + p.sq_off.ring_mask);
    ring.sq_array = (unsigned *)(rings + p.sq_off.array);
    ring.cq_head = (unsigned *)(rings + p.cq_off.head);
    ring.cq_tail = (unsigned *)(rings + p.cq_off.tail);
    ring.cq_mask = (unsigned *)(rings + p.cq_off.ring_mask);
    ring.cqes = (struct io_uring_cqe *)(rings + p.cq_off.cqes);
}

/* Queues one operation on the call's socket; submitted by the next enter(). */
static void queue(unsigned char opcode, struct call *c, const void *buf, size_t len, int op) {
    unsigned tail = *ring.sq_tail;
    if (tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE) == ENTRIES) enter(0);
    unsigned index = tail & *ring.sq_mask;
    struct io_uring_sqe *sqe = &ring.sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = opcode;
    sqe->fd = c->fd;
    sqe->addr = (uintptr_t)buf;
    sqe->len = (unsigned)len;
    sqe->user_data = (uintptr_t)c | (uintptr_t)op;
    ring.sq_array[index] = index;
    __atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
    ring.queued++;
}

static void receive(struct call *c) {
    queue(IORING_OP_RECV, c, c->in + c->in_len, READ_BUFFER - c->in_len, 0);
}

static void end(struct call *c) {
    leave_beat(c);
    close(c->fd);
    c->closed = 1;
    if (c->sending == 0) free(c);
}

/* Handles every completion posted; returns how many there were. */
static unsigned reap(void) {
    unsigned head = *ring.cq_head, tail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE), n = 0;
    for (; head != tail; head++, n++) {
        struct io_uring_cqe *cqe = &ring.cqes[head & *ring.cq_mask];
        struct call *c = (struct call *)(uintptr_t)(cqe->user_data & ~(uint64_t)SEND);
        if (cqe->user_data & SEND) {
            if (c->sending_echo) sent(c, c->sending);
            c->sending = 0;
            if (c->closed) free(c);
        } else if (cqe->res <= 0) {
            end(c); /* closed by the peer, or reset */
        } else {
            c->in_len += (size_t)cqe->res;
            if (take(c)) receive(c);
            else end(c);
        }
    }
    __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
    return n;
}

/* One frame for the call: its oldest queued echo, or silence once audio has begun. */
static void tick(struct call *c) {
    if (!c->started || c->sending) return; /* the last frame is still in flight: skip a beat */
    c->sending_echo = c->out_len > 0;
    c->sending = c->sending_echo ? whole_message(c->out, c->out_len) : sizeof silence;
    queue(IORING_OP_SEND, c, c->sending_echo ? c->out : silence, c->sending, SEND);
}

int main(int argc, char **argv) {
    ring_open(); /* first: a kernel without io_uring fails before `listening on` */
    int listener = open_listener(argc, argv);
    if (listener < 0) return 1;

    long long next_beat = 0; /* deadline of the next beat; 0: no calls, the clock is stopped */
    int beat = 0;
    for (;;) {
        if (call_count() > 0) {
            if (next_beat == 0) next_beat = now_ns();
            struct timespec at = {.tv_sec = next_beat / 1000000000LL, .tv_nsec = next_beat % 1000000000LL};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
        } else {
            next_beat = 0;
            struct pollfd listening = {.fd = listener, .events = POLLIN};
            poll(&listening, 1, 20);
        }
        int fd;
        while ((fd = accept_call(listener)) >= 0) receive(admit(fd));
        /* The harvest: each enter runs a bounded share of the deferred receives, so ask until
         * none is left. */
        do enter(IORING_ENTER_GETEVENTS);
        while (reap() > 0);
        if (next_beat == 0 || now_ns() < next_beat) continue;
        /* One beat per wake; after a stall the clock skips to the present, as the engine's does. */
        for (int i = 0; i < beat_len[beat]; i++) tick(beats[beat][i]);
        enter(0);
        beat = (beat + 1) % BEATS;
        next_beat += BEAT_NS;
        long long now = now_ns();
        if (next_beat < now - 3 * BEATS * BEAT_NS) next_beat = now;
    }
}
