/*
 * What the C echo servers share (bench/c-echo, bench/c-paced): a non-blocking listener on
 * argv[1]:argv[2] (port 0 picks one), announced as `listening on HOST:PORT` for bench/servers.mjs;
 * the accepting of connections with TCP_NODELAY, as every AudioSocket server should; and the
 * framing of AudioSocket messages (kind, 16-bit big-endian length, payload).
 */
#ifndef C_ECHO_SERVER_H
#define C_ECHO_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* The listening socket, or -1 (with the reason on stderr). */
static inline int open_listener(int argc, char **argv) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 0;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &addr.sin_addr);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 4096) < 0) {
        perror("listen");
        return -1;
    }
    socklen_t addrlen = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &addrlen);
    printf("listening on %s:%d\n", host, ntohs(addr.sin_port));
    fflush(stdout);
    return listener;
}

/* The next pending connection (non-blocking, TCP_NODELAY), or -1 when there is none. */
static inline int accept_call(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
    int one = 1;
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Watches `fd` for reading, with `call` as the event's data. */
static inline void watch(int epoll, int fd, void *call) {
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = call};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

/* An epoll instance watching the listener (its events carry a NULL call). */
static inline int watch_listener(int listener) {
    int epoll = epoll_create1(0);
    watch(epoll, listener, NULL);
    return epoll;
}

/* One read() onto the end of buf: 1 when bytes came, 0 for none yet, -1 when the call is over. */
static inline int read_more(int fd, unsigned char *buf, size_t *len, size_t capacity) {
    ssize_t got = read(fd, buf + *len, capacity - *len);
    if (got == 0 || (got < 0 && errno != EAGAIN)) return -1;
    if (got < 0) return 0;
    *len += (size_t)got;
    return 1;
}

/* The length of the message at the start of buf (header included), or 0 while it is incomplete. */
static inline size_t whole_message(const unsigned char *buf, size_t len) {
    if (len < 3) return 0;
    size_t size = 3 + (((size_t)buf[1] << 8) | buf[2]);
    return len < size ? 0 : size;
}

#endif
