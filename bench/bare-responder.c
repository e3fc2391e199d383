/*
 * The floor of a UDP server's loop on this machine: the I/O loop of the fluxdns addon (native/udp_batch.c)
 * and of knotd — epoll_wait, recvmmsg of up to 64 datagrams, sendmmsg of their replies, again while a batch
 * comes back full — with nothing in between: every datagram gets bare-responder.mjs's fixed reply with its
 * ID copied. What a server costs per query above this is its own work; what this costs is the kernel's
 * and the loop's (bench/README, "Why the repeating mix stays at parity with knotd").
 * With `block`, the same without epoll: a blocking recvmmsg (MSG_WAITFORONE) waits and reads in one
 * system call, as a UDP thread of its own could (kind bare-c-block) — the one loop measured cheaper here.
 * Usage: bare-responder PORT [block]   (binds 127.0.0.1:PORT, prints "bare ready" when listening)
 * Built by bench/servers.ts (kinds bare-c, bare-c-block) with the system's cc.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define BATCH 64
#define MAX_ROUNDS 8
#define SLOT 4096

/* h0.bench.lab. A -> 198.18.0.0, AA set (bare-responder.mjs's reply). */
static const unsigned char reply[] = {
    0, 0, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,                                 /* ID, QR+AA, QD=1 AN=1 */
    2, 'h', '0', 5, 'b', 'e', 'n', 'c', 'h', 3, 'l', 'a', 'b', 0, 0, 1, 0, 1, /* h0.bench.lab. A IN */
    0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 198, 18, 0, 0,              /* ptr, A IN, 3600, addr */
};

static unsigned char in[BATCH][SLOT], out[BATCH][sizeof reply];
static struct sockaddr_storage addr[BATCH];
static struct iovec riov[BATCH], siov[BATCH];
static struct mmsghdr rmsgs[BATCH], smsgs[BATCH];

/* One recvmmsg (flags: MSG_DONTWAIT, or MSG_WAITFORONE on a blocking socket) and the sendmmsg of its replies; how many came. */
static int answer(int fd, int flags) {
  for (int i = 0; i < BATCH; i++) rmsgs[i].msg_hdr.msg_namelen = sizeof addr[i];
  int r = recvmmsg(fd, rmsgs, BATCH, flags, NULL);
  if (r <= 0) return 0;
  int n = 0;
  for (int i = 0; i < r; i++) {
    if (rmsgs[i].msg_len < 2) continue;
    out[i][0] = in[i][0];
    out[i][1] = in[i][1];
    smsgs[n].msg_hdr.msg_name = &addr[i];
    smsgs[n].msg_hdr.msg_namelen = rmsgs[i].msg_hdr.msg_namelen;
    smsgs[n].msg_hdr.msg_iov = &siov[i];
    n++;
  }
  if (n > 0) sendmmsg(fd, smsgs, (unsigned)n, MSG_DONTWAIT);
  return r;
}

int main(int argc, char **argv) {
  int port = argc >= 2 ? atoi(argv[1]) : 0;
  int block = argc == 3 && strcmp(argv[2], "block") == 0;
  if (port <= 0 || port > 65535 || (argc == 3 && !block) || argc > 3) {
    fprintf(stderr, "usage: bare-responder PORT [block]\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | (block ? 0 : SOCK_NONBLOCK), 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int rcv = 1 << 20, probe = IP_PMTUDISC_PROBE; /* the addon's socket options */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    perror("bare-responder: bind");
    return 1;
  }
  for (int i = 0; i < BATCH; i++) {
    riov[i] = (struct iovec){in[i], SLOT};
    memcpy(out[i], reply, sizeof reply);
    siov[i] = (struct iovec){out[i], sizeof reply};
    rmsgs[i].msg_hdr = (struct msghdr){.msg_name = &addr[i], .msg_iov = &riov[i], .msg_iovlen = 1};
    smsgs[i].msg_hdr = (struct msghdr){.msg_name = &addr[i], .msg_iov = &siov[i], .msg_iovlen = 1};
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  printf("bare ready\n");
  fflush(stdout);
  for (;;) {
    if (block) {
      answer(fd, MSG_WAITFORONE);
      continue;
    }
    struct epoll_event ready[4];
    if (epoll_wait(ep, ready, 4, -1) <= 0) continue;
    for (int round = 0; round < MAX_ROUNDS; round++)
      if (answer(fd, MSG_DONTWAIT) < BATCH) break;
  }
}
