/*
 * Grant-latency client for bench/grants.ts, in C so the measuring side adds no tail of its own
 * (no GC, no JIT, no event loop): blocking sendto/recv on one UDP socket, clock_gettime(CLOCK_MONOTONIC).
 *
 * Sequential phase: grant queries (A for the subnet-scoped service, each with a new ECS /32 from
 * 198.18.0.0/15, so each answer is a new lease) alternating one for one with queries for a static,
 * cached name of the same zone: the static latencies are the floor of *any* answer from this server,
 * client and machine, measured under the same conditions as the grants they sit between.
 * Concurrent phase: `inflight` grants kept in flight with poll(); rate and per-query latency.
 *
 * Usage: grants-client HOST PORT SEQUENTIAL WARMUP CONCURRENT INFLIGHT OFFSET GRANT_NAME STATIC_NAME
 * Prints one JSON line: {"grant":[ms...],"static":[ms...],"concurrent":N,"seconds":S,"concurrentLatencies":[ms...]}.
 * Exits 1 with a message on stderr on a timeout, a wrong RCODE or an answer count other than 1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int sock;
static struct sockaddr_in server;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t put_name(uint8_t *p, const char *name) {
  size_t n = 0;
  while (*name) {
    const char *dot = strchr(name, '.');
    size_t len = dot ? (size_t)(dot - name) : strlen(name);
    p[n++] = (uint8_t)len;
    memcpy(p + n, name, len);
    n += len;
    name += len + (dot ? 1 : 0);
  }
  p[n++] = 0;
  return n;
}

/* A query for NAME type A with EDNS (1232) and an ECS option for 198.18.0.0/15 address number `n`, /32. */
static size_t encode(uint8_t *buf, const char *name, uint32_t n) {
  size_t len = 0;
  static const uint8_t header[12] = {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
  memcpy(buf, header, 12);
  len = 12;
  len += put_name(buf + len, name);
  static const uint8_t tail[] = {0, 1, 0, 1, /* OPT: */ 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 12, /* ECS: */ 0, 8, 0, 8, 0, 1, 32, 0};
  memcpy(buf + len, tail, sizeof tail);
  len += sizeof tail;
  buf[len++] = 198;
  buf[len++] = (uint8_t)(18 + ((n >> 16) & 1));
  buf[len++] = (uint8_t)(n >> 8);
  buf[len++] = (uint8_t)n;
  return len;
}

static void set_id(uint8_t *buf, uint16_t id) {
  buf[0] = (uint8_t)(id >> 8);
  buf[1] = (uint8_t)id;
}

static void check(const uint8_t *r, ssize_t len, const char *what, uint32_t n) {
  if (len < 12) {
    fprintf(stderr, "%s %u: short reply (%zd bytes)\n", what, n, len);
    exit(1);
  }
  int rcode = r[3] & 0x0f, answers = (r[6] << 8) | r[7];
  if (rcode != 0 || answers != 1) {
    fprintf(stderr, "%s %u: rcode %d, %d answers\n", what, n, rcode, answers);
    exit(1);
  }
}

static uint16_t next_id = 1;

/* One query, waited for (replies with another ID — late ones — are skipped); its latency in ms. */
static double ask(uint8_t *q, size_t qlen, const char *what, uint32_t n) {
  uint16_t id = next_id++;
  if (id == 0) id = next_id++;
  set_id(q, id);
  uint8_t r[1500];
  double t0 = now_ms();
  if (sendto(sock, q, qlen, 0, (struct sockaddr *)&server, sizeof server) != (ssize_t)qlen) {
    perror("sendto");
    exit(1);
  }
  for (;;) {
    ssize_t len = recv(sock, r, sizeof r, 0);
    if (len < 0) {
      fprintf(stderr, "%s %u: %s\n", what, n, errno == EAGAIN ? "timed out (5 s)" : strerror(errno));
      exit(1);
    }
    if (len >= 2 && ((r[0] << 8) | r[1]) == id) {
      double t = now_ms() - t0;
      check(r, len, what, n);
      return t;
    }
  }
}

static void print_array(const char *key, const double *xs, int n) {
  printf("\"%s\":[", key);
  for (int i = 0; i < n; i++) printf("%s%.4f", i ? "," : "", xs[i]);
  printf("]");
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr, "usage: %s HOST PORT SEQUENTIAL WARMUP CONCURRENT INFLIGHT OFFSET GRANT_NAME STATIC_NAME\n", argv[0]);
    return 2;
  }
  int seqN = atoi(argv[3]), warmup = atoi(argv[4]), total = atoi(argv[5]), inflight = atoi(argv[6]);
  uint32_t seq = (uint32_t)strtoul(argv[7], NULL, 10);
  const char *grant = argv[8], *stat = argv[9];
  if (inflight < 1 || inflight > 1024 || seqN < 0 || warmup < 0 || total < 0) {
    fprintf(stderr, "inflight must be 1..1024, counts >= 0\n");
    return 2;
  }
  memset(&server, 0, sizeof server);
  server.sin_family = AF_INET;
  server.sin_port = htons((uint16_t)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", argv[1]);
    return 2;
  }
  sock = socket(AF_INET, SOCK_DGRAM, 0);
  struct timeval tv = {5, 0};
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int rcvbuf = 1 << 20;
  setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);

  uint8_t q[512], s[512];
  size_t slen = encode(s, stat, 0);
  for (int i = 0; i < warmup; i++) {
    size_t qlen = encode(q, grant, seq);
    ask(q, qlen, "grant", seq++);
    if (i % 4 == 0) ask(s, slen, "static", 0);
  }

  double *g = calloc((size_t)seqN + 1, sizeof *g), *st = calloc((size_t)seqN + 1, sizeof *st);
  for (int i = 0; i < seqN; i++) {
    size_t qlen = encode(q, grant, seq);
    g[i] = ask(q, qlen, "grant", seq++);
    st[i] = ask(s, slen, "static", 0);
  }

  /* Concurrent: one socket, `inflight` outstanding; a slot is refilled as soon as its reply arrives. */
  double *cl = calloc((size_t)total + 1, sizeof *cl);
  double sent_at[65536];
  uint32_t number_of[65536];
  uint8_t live[65536];
  memset(live, 0, sizeof live);
  int sent = 0, done = 0, outstanding = 0;
  double c0 = now_ms();
  struct pollfd pfd = {sock, POLLIN, 0};
  while (done < total) {
    while (outstanding < inflight && sent < total) {
      uint16_t id = next_id++;
      if (id == 0 || live[id]) id = next_id++;
      size_t qlen = encode(q, grant, seq);
      set_id(q, id);
      live[id] = 1;
      number_of[id] = seq++;
      sent_at[id] = now_ms();
      if (sendto(sock, q, qlen, 0, (struct sockaddr *)&server, sizeof server) != (ssize_t)qlen) {
        perror("sendto");
        return 1;
      }
      sent++;
      outstanding++;
    }
    if (poll(&pfd, 1, 5000) <= 0) {
      fprintf(stderr, "concurrent: no reply within 5 s (%d of %d answered)\n", done, total);
      return 1;
    }
    uint8_t r[1500];
    ssize_t len;
    while ((len = recv(sock, r, sizeof r, MSG_DONTWAIT)) > 0) {
      if (len < 2) continue;
      uint16_t id = (uint16_t)((r[0] << 8) | r[1]);
      if (!live[id]) continue;
      check(r, len, "concurrent grant", number_of[id]);
      live[id] = 0;
      cl[done++] = now_ms() - sent_at[id];
      outstanding--;
    }
  }
  double seconds = (now_ms() - c0) / 1e3;

  printf("{");
  print_array("grant", g, seqN);
  printf(",");
  print_array("static", st, seqN);
  printf(",\"concurrent\":%d,\"seconds\":%.6f,", total, seconds);
  print_array("concurrentLatencies", cl, total);
  printf("}\n");
  return 0;
}
