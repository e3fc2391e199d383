/* UDP batching for fluxdns: one socket read with recvmmsg and answered with one sendmmsg per batch,
 * driven by a uv_poll on the main loop (N-API only; no threads). See native/README.md. */
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "nsec3.h"

/* Layout shared with src/transport/udp-batch.ts: keep in sync. */
#define RECV_STRIDE 8 /* int32 per received datagram: len, port, family, 0, addr[16 bytes] */
/* int32 per reply: index of the datagram it answers, offset in the send buffer, length, and "replay": 0, or
 * the answer's metrics cell + 2 (1: no cell) when the reply is a plain answer-cache hit the mirror may keep;
 * then, for a replay under rrl, the rrl bucket it was let through on: kind-and-name hashes a, b and rate
 * (0: none); one unused. */
#define SEND_STRIDE 8
#define SLOT 4096     /* bytes per received datagram; a longer one is dropped (MSG_TRUNC) */
/* Distance between two datagrams in the receive buffer: one cache line more than SLOT, so the starts of
 * a batch's datagrams (where the kernel writes and JS reads) fall in different L1 cache sets; at exactly
 * 4096 apart all 64 map to one set of the 12 ways (8-way on older cores), and evict one another. */
#define STRIDE (SLOT + 64)
#define SEND_SLOT 4096 /* UDP replies are at most limits.udpPayload (<= 4096) */
#define MAX_BATCH 1024
#define MAX_ROUNDS 8  /* batches per readiness event before yielding to the loop (fairness with TCP) */

/*
 * The replay mirror: replies JS produced as plain answer-cache hits, kept by the query's bytes, so the
 * same query (another ID, another case of the name, RD/CD set otherwise) is answered here without
 * calling JS. The key is the whole datagram after the ID with RD and CD cleared and the question name
 * lower-cased: equal keys mean the same question, the same EDNS (payload size, DO, no options) and the
 * same additional records, so the JS engine would have found the same cache entry and sent the same
 * bytes. JS says which replies are plain (the configuration runs nothing per query but rrl, which is
 * checked here (rrl_pass): no policies, cookies, TSIG, query log) and empties the mirror whenever its answer cache is invalidated (a reload, a
 * zone change, an UPDATE, `ctl cache flush`, a change of that configuration).
 */
#define MIRROR_SLOTS (1 << 17) /* open addressing, at most half full */
#define MIRROR_MAX (MIRROR_SLOTS / 2)
#define MIRROR_MAX_KEY 512
/* Encloser templates share the mirror's table and arena but may fill only half of each: a flood over many
 * enclosers would otherwise fill the mirror again and again, and every emptying drops the hot exact
 * entries with it. At the cap no template is learnt until the templates are next emptied: with the mirror,
 * or on their own (tmpl_reopen, the exact entries kept) once TMPL_REOPEN_MS have passed since the last of
 * those emptyings, so junk shapes cannot close learning for as long as the server runs, and the table is
 * rebuilt at most once a TMPL_REOPEN_MS. */
#define TMPL_MAX (MIRROR_MAX / 2)
#define TMPL_REOPEN_MS 1000
/*
 * Where the mirror lives: its slots (hash and entry offset, one 8-byte load a probe) in one 2 MiB-aligned
 * mapping, and its entries one after the other in an arena (entries go all at once, in mirror_clear, or the templates among them at once, in tmpl_reopen),
 * both with transparent huge pages asked for. A lookup's misses were page walks as much as cache misses
 * (perf: the samples stood on the prefetches, which wait for the walk): with 4 KiB pages the table alone
 * took 384 TLB entries and the malloc'd entries one each. The arena is reserved, not committed: memory is
 * used as entries fill it (MAP_NORESERVE), and returned when the mirror is emptied.
 */
#define HUGE_PAGE ((size_t)2 << 20)
#define MIRROR_ARENA ((size_t)32 << 20)
#define ENTRY_ALIGN 64 /* an entry starts a cache line: its first lines are the ones prefetched */
#define TMPL_ARENA (MIRROR_ARENA / 2) /* see TMPL_MAX */

typedef struct {
  uint32_t hash; /* 0: empty */
  uint32_t off;  /* the entry's offset in the arena */
} mirror_slot;

typedef struct {
  uint32_t hash;
  uint16_t klen, rlen, qend;
  /* An encloser template's (see tmpl_learn; 0 in a mirror entry): its suffix S, guards and moved pointers. */
  uint16_t slen, glen, pcount;
  uint8_t tflags;
  uint16_t lines; /* the entry's size in ENTRY_ALIGN units (the arena is walked by it: tmpl_reopen) */
  int32_t cell; /* the answer's metrics cell, -1 for none */
  uint32_t rrl_a, rrl_b, rrl_rate; /* the rrl bucket's kind-and-name hash and rate (rrl_rate 0: none) */
  /* klen key bytes, then rlen reply bytes; a template's then S (slen), guards (glen) and the offsets of the
   * pointers to move (pcount, 2 bytes each, native order) */
  uint8_t data[];
} mirror_entry;

/*
 * rrl for replays (src/modules/rrl/replay.ts): the rrl unit's bucket table, shared with JS (the columns of
 * src/modules/rrl/limiter.ts, held by references while set), and how a client's bucket key is made. A
 * replay goes out only when its bucket exists and has credit, spent here exactly as RateLimiter.checkHash
 * spends it; any other query goes to JS, whose rrl unit makes the bucket or limits, slips, counts and logs.
 */
#define RRL_COLUMNS 7
#define RRL_EXEMPT_BYTES 18 /* family, length, 16 address bytes */
typedef struct {
  int on;
  int32_t *key_a, *key_b, *limited, *place;
  double *balance, *at, *ok;
  uint32_t mask;
  uint32_t seed_a, seed_b;
  int v4len, v6len;
  uint8_t *exempt;
  int nexempt;
  napi_ref refs[RRL_COLUMNS];
} rrl_share;

static void rrl_release(napi_env env, rrl_share *r);

/*
 * Encloser replay (native/README.md, /work contract "encloser replay"): the compiled zones JS answers from
 * (src/zone/compiled.ts, held by references while registered), so a name that does not exist is placed here
 * under its closest encloser E, and a reply template learnt for (zone, E, the rest of the query) answers it.
 */
#define ENC_MAX_ZONES 255
#define ENC_APEX_SLOTS 512 /* apex table: open addressing, at most half full */
#define ENC_ARRAYS 5
#define F_CUT 2   /* src/zone/compiled.ts node flags */
#define F_DNAME 4
#define FNV_SEED 0x811c9dc5u
#define FNV_PRIME 0x01000193u
/* Send meta word 7: the reply holds only for a next-closer label sorting after "*" (contract CHANGE 10:40). */
#define W7_AFTER_STAR 0x40000000u
/* Word 7's bit 29: helper n3c's (an NSEC3 hole); not learnt here. */
#define W7_NSEC3 0x20000000u
#define TMPL_NSEC3 2 /* tflags: the template has an NSEC3 hole (nsec3.h) */
/* Word 7's bit 27 (replay mode 2: an observer counts replays by metrics cell, whose length is the learnt
 * reply's; bit 28 is no longer used): a reply made for a name of another length, or with another NSEC3
 * block, is counted by (the learnt cell, its own length); JS finds the cell of the learnt one's type, rcode
 * and zone at that length (takeReplays). qtype, rcode and zone are the template's for every name below E. */
#define W7_BY_LEN 0x08000000u
#define TMPL_BY_LEN 8 /* tflags */
#define W7_CELL 0x07ffffffu
/* The (cell, length) pairs counted between two takeReplays: open addressing, at most half full (a template
 * that would need another pair when it is leaves its query to JS). Made on first use. */
#define LEN_CELL_SLOTS 8192
#define LEN_CELL_LEN_BITS 13 /* a reply is at most SEND_SLOT (4096) bytes */
#define TMPL_MARK 0xff /* a template key's first byte; a mirror key's is at most 7 (mirror_key) */
#define TMPL_KEY_HEAD 17 /* mark, zone slot, E node (4), after-"*", header bytes 2..11 */
#define TMPL_MAX_GUARDS 1024

typedef struct {
  uint8_t apex[256]; /* lower-cased wire */
  int apex_len;
  uint32_t apex_hash;
  const int32_t *index; /* node + 1, 0 empty; power-of-two length */
  uint32_t mask;
  const uint32_t *node_hash;
  const int32_t *node_name;
  const uint8_t *node_flags;
  uint32_t nodes;
  const uint8_t *names;
  size_t names_len;
  napi_ref refs[ENC_ARRAYS];
  n3_zone n3; /* a signed NSEC3 zone's chain (nsec3.h): the NSEC3 hole of its templates */
} enc_zone;

typedef struct {
  enc_zone *zones;
  int n;
  uint8_t apex_slot[ENC_APEX_SLOTS]; /* zone + 1, 0 empty */
  int udp_payload; /* the server's limits.udpPayload (enclosers' third argument), 0: not given */
} enc_set;

/* Where the descent placed a name: the zone (slot), its closest encloser node and the next-closer label's offset in the name. */
typedef struct {
  int zone;
  int32_t node;
  int n_off;
} enc_place;

static void enc_release(napi_env env, enc_set *e);

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int family;
  int batch;
  int closing;
  napi_ref callback;   /* onBatch(count, recvBuffer) -> number of replies in the send meta */
  napi_ref self;       /* the JS handle object, kept alive while the socket is open */
  napi_ref recv_ab;    /* current receive ArrayBuffer (replaced by detach()) */
  napi_async_context async;
  uint8_t *recv;       /* batch * STRIDE */
  int detach_pending;
  uint8_t *hdr_recv;   /* the receive buffer rmsgs/riov point into */
  int hdr_used;        /* headers the last recvmmsg wrote */
  napi_ref next_ab;    /* a receive buffer JS handed back with detach(), used instead of a new one */
  int32_t *recv_meta;  /* batch * RECV_STRIDE, owned by an ArrayBuffer held by JS */
  int32_t *send_meta;  /* batch * SEND_STRIDE */
  uint8_t *send;       /* batch * SEND_SLOT */
  struct mmsghdr *rmsgs;
  struct iovec *riov;
  struct sockaddr_storage *raddr;
  struct mmsghdr *smsgs;
  struct iovec *siov;
  /* the replay mirror (see mirror_entry) */
  int mirror_on;
  int mirror_count;
  /* counts the mirror's emptyings (mirror_clear): a JS batch during which it moved made its replies for
   * a runtime that is gone (call_js) */
  unsigned mirror_gen;
  mirror_slot *slots;       /* MIRROR_SLOTS (huge_map), or NULL until the first entry */
  uint8_t *arena;           /* MIRROR_ARENA (huge_map) */
  size_t arena_used;
  /* batch * SEND_SLOT: replies made here, before the ones JS makes, one after the other (16-byte aligned):
   * a batch of replies in a few KiB stays in L1 for the kernel's copy, where one per 4 KiB slot put every
   * reply in the same cache set, as the receive buffer's STRIDE explains, and on its own page. */
  uint8_t *nsend;
  struct mirror_probe *probes; /* batch: the lookups of the datagrams read last (mirror_probe_batch) */
  struct sockaddr_storage *naddr; /* their peers */
  socklen_t *nalen;
  double *cell_hits;        /* replayed hits per metrics cell, taken (and reset) by takeReplays() */
  int cell_cap;
  uint32_t *len_keys;       /* W7_BY_LEN replays: (cell << LEN_CELL_LEN_BITS | length) + 1 per slot, 0 empty */
  double *len_hits;         /* and their hits, taken (and reset) by takeReplays() */
  int len_used;
  double replayed_uncelled;
  rrl_share rrl;
  /* counters, read by stats() */
  double received, sent, send_errors, truncated, recv_calls, send_calls, replayed;
  double truncated_replies; /* replies sent again with TC after EMSGSIZE (send_batch) */
  double shaped;            /* replies made here from an encloser template (also counted in replayed) */
  enc_set enc;              /* the zones registered for encloser replay (js_enclosers) */
  int tmpl_count;           /* templates among the mirror's entries */
  size_t tmpl_bytes;        /* their share of the arena */
  int64_t tmpl_since;       /* when the templates were last emptied (mirror_clear, tmpl_reopen; clock_ms) */
  int64_t clock_fixed;      /* clock_ms's value when >= 0 (templateClock, a test hook); -1: CLOCK_MONOTONIC */
  double tmpl_reopens;      /* the templates emptied at the cap, the exact entries kept (tmpl_reopen) */
  /* The exact mirror keys asked before (seen_mark): SEEN_SLOTS 16-bit tags, direct-mapped by the key's hash,
   * NULL until first used, emptied with the mirror. A template reply to a key seen before goes into the
   * mirror as well (promote), so a repeated name becomes a plain mirror hit. */
  uint16_t *seen;
  int seen_used;
} batch_sock;

/* FNV-1a, then murmur3's finalizer: FNV's low bits (the table index) mix poorly on their own. */
static inline uint32_t fnv_more(uint32_t h, const uint8_t *k, int n) {
  for (int i = 0; i < n; i++) h = (h ^ k[i]) * 0x01000193u;
  return h;
}

static inline uint32_t hash_final(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h | 1; /* 0 marks an empty slot */
}

static uint32_t mirror_hash(const uint8_t *k, int n) {
  return hash_final(fnv_more(0x811c9dc5u, k, n));
}

/*
 * The mirror key of the query q (len bytes) into key: bytes 2.. with RD and CD cleared and the name
 * lower-cased (RFC 4343). Returns its length, or -1 for a datagram the mirror does not serve (not a
 * standard query of one question, a compressed or malformed name, too long). *qend: end of the question.
 */
static int mirror_key(const uint8_t *q, int len, uint8_t *key, int *qend) {
  if (len < 17 || len - 2 > MIRROR_MAX_KEY) return -1;
  if ((q[2] & 0xf8) != 0 || q[4] != 0 || q[5] != 1) return -1; /* QR, opcode QUERY, QDCOUNT 1 */
  key[0] = q[2] & 0xfe;
  key[1] = q[3] & 0xef;
  memcpy(key + 2, q + 4, 8);
  int p = 12;
  for (;;) {
    int l = q[p];
    if (l == 0) break;
    if (l > 63 || p + 1 + l >= len || p + 1 + l - 12 > 254) return -1;
    key[p - 2] = (uint8_t)l;
    for (int i = p + 1; i <= p + l; i++) {
      uint8_t c = q[i];
      key[i - 2] = c >= 'A' && c <= 'Z' ? c | 0x20 : c;
    }
    p += 1 + l;
  }
  key[p - 2] = 0;
  p++;
  if (p + 4 > len) return -1;
  *qend = p + 4;
  memcpy(key + p - 2, q + p, (size_t)(len - p));
  return len - 2;
}

/* A mapping of size bytes (a multiple of HUGE_PAGE) aligned to HUGE_PAGE, huge pages asked for; NULL on failure. */
static uint8_t *huge_map(size_t size) {
  size_t span = size + HUGE_PAGE;
  uint8_t *p = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return NULL;
  uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
  if (start > (uintptr_t)p) munmap(p, start - (uintptr_t)p);
  uint8_t *end = (uint8_t *)start + size;
  if (end < p + span) munmap(end, (size_t)(p + span - end));
#ifdef MADV_HUGEPAGE
  madvise((void *)start, size, MADV_HUGEPAGE);
#endif
  return (uint8_t *)start;
}

#define SEEN_SLOTS (1 << 16)

/* Milliseconds on CLOCK_MONOTONIC (a test may fix it: templateClock). */
static int64_t clock_ms(const batch_sock *s) {
  if (s->clock_fixed >= 0) return s->clock_fixed;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void mirror_clear(batch_sock *s) {
  /* Counted even when there is nothing to drop: replies JS made before it may not be kept after it. */
  s->mirror_gen++;
  s->tmpl_since = clock_ms(s);
  if (s->seen_used) {
    memset(s->seen, 0, SEEN_SLOTS * sizeof *s->seen);
    s->seen_used = 0;
  }
  if (s->slots == NULL || s->mirror_count == 0) return;
  memset(s->slots, 0, MIRROR_SLOTS * sizeof *s->slots);
  /* The entries' memory goes back (a full mirror refills it; a reload may leave it idle for long). */
  madvise(s->arena, s->arena_used, MADV_DONTNEED);
  s->arena_used = 0;
  s->mirror_count = 0;
  s->tmpl_count = 0;
  s->tmpl_bytes = 0;
}

/*
 * Whether the mirror key with hash h (hash_final: bit 0 set) was seen before, marking it seen. The slot is
 * the hash's high 16 bits and the tag its low 16, so two keys are confused only when their whole hashes
 * are equal; a slot holds the last key that took it (a forgotten key is only promoted on its next ask).
 */
static int seen_mark(batch_sock *s, uint32_t h) {
  if (s->seen == NULL && (s->seen = calloc(SEEN_SLOTS, sizeof *s->seen)) == NULL) return 0;
  uint16_t *t = &s->seen[h >> 16], tag = (uint16_t)h;
  if (*t == tag) return 1;
  *t = tag;
  s->seen_used = 1;
  return 0;
}

static inline mirror_entry *entry_at(batch_sock *s, uint32_t off) {
  return (mirror_entry *)(s->arena + off);
}

/*
 * A batch's lookups overlapped: a lookup is two dependent cache misses (the slot's hash, then the entry
 * it points to), each a page walk too on a table of this size, and one after the other they were most of
 * the addon's own CPU (perf: 85 % of on_readable's samples on those two loads). So the keys and hashes of
 * the whole batch are made first and their slots prefetched, then each slot's entry is prefetched, and
 * only then are the entries compared: the misses of a batch are in flight together, and the first
 * slot's line has arrived by the time the last key is hashed.
 */

typedef struct mirror_probe {
  int klen;         /* -1: not a datagram the mirror serves */
  int qend;
  uint32_t hash;
  uint32_t slot;    /* where the probe stands */
  mirror_entry *e;  /* the entry at slot whose hash matches, NULL if the probe reached an empty slot */
  /* The encloser template's probe after a mirror miss (tmpl_probe_batch), the same way: tk 0 when none. */
  int tk;
  enc_place pl;
  uint32_t thash, tslot;
  mirror_entry *te;
  int n3_place;     /* the NSEC3 chain place tmpl_fits chose for a template's hole */
  /* A template reply to a key seen before, to be kept as a mirror entry after the batch's lookups
   * (on_readable: an insert may empty the mirror, which later probes of the batch still point into). */
  int promote;
  uint32_t pout;    /* the reply's offset in nsend, its length, the template's cell and rrl bucket */
  int plen;
  int32_t pcell;
  uint32_t prrl_a, prrl_b, prrl_rate;
  uint8_t thead[TMPL_KEY_HEAD]; /* the template key's head (tmpl_head); the rest is key's after the name */
  uint8_t key[MIRROR_MAX_KEY];
} mirror_probe;

static inline void prefetch_entry(const mirror_entry *e) {
  const char *p = (const char *)e;
  __builtin_prefetch(p);
  __builtin_prefetch(p + 64);
  __builtin_prefetch(p + 128);
  __builtin_prefetch(p + 192);
}

/* Advances pr from pr->slot to the first slot with its hash (sets pr->e) or to an empty one (NULL). */
static inline void mirror_probe_step(batch_sock *s, mirror_probe *pr) {
  const mirror_slot *slots = s->slots;
  for (uint32_t i = pr->slot;; i = (i + 1) & (MIRROR_SLOTS - 1)) {
    uint32_t t = slots[i].hash;
    if (t == 0) {
      pr->slot = i;
      pr->e = NULL;
      return;
    }
    if (t == pr->hash) {
      pr->slot = i;
      pr->e = entry_at(s, slots[i].off);
      return;
    }
  }
}

static void mirror_probe_batch(batch_sock *s, int n) {
  mirror_probe *probes = s->probes;
  for (int i = 0; i < n; i++) {
    mirror_probe *pr = &probes[i];
    pr->promote = 0;
    if (s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
      pr->klen = -1;
      continue;
    }
    pr->klen = mirror_key(s->recv + (size_t)i * STRIDE, (int)s->rmsgs[i].msg_len, pr->key, &pr->qend);
    if (pr->klen < 0) continue;
    pr->hash = mirror_hash(pr->key, pr->klen);
    pr->slot = pr->hash & (MIRROR_SLOTS - 1);
    __builtin_prefetch(&s->slots[pr->slot]);
  }
  for (int i = 0; i < n; i++) {
    mirror_probe *pr = &probes[i];
    if (pr->klen < 0) continue;
    mirror_probe_step(s, pr);
    if (pr->e != NULL) prefetch_entry(pr->e);
  }
}

/* The entry for pr's key (its probe already at the first slot with the key's hash), or NULL. */
static mirror_entry *mirror_probe_finish(batch_sock *s, mirror_probe *pr) {
  while (pr->e != NULL) {
    mirror_entry *e = pr->e;
    if (e->klen == pr->klen && memcmp(e->data, pr->key, (size_t)pr->klen) == 0) return e;
    pr->slot = (pr->slot + 1) & (MIRROR_SLOTS - 1);
    mirror_probe_step(s, pr);
  }
  return NULL;
}

/*
 * A new entry of `need` bytes for key (klen bytes, hash h) in the mirror, its slot taken and its header's
 * hash and klen set and the key copied; NULL when the key is there already or no memory could be mapped.
 */
static mirror_entry *mirror_insert(batch_sock *s, const uint8_t *key, int klen, uint32_t h, size_t need) {
  if (s->slots == NULL) {
    /* The slots need no zeroing: a fresh anonymous mapping reads as zeros. */
    s->slots = (mirror_slot *)huge_map(HUGE_PAGE);
    s->arena = huge_map(MIRROR_ARENA);
    if (s->slots == NULL || s->arena == NULL) {
      if (s->slots != NULL) munmap(s->slots, HUGE_PAGE);
      if (s->arena != NULL) munmap(s->arena, MIRROR_ARENA);
      s->slots = NULL;
      s->arena = NULL;
      return NULL;
    }
  }
  need = (need + ENTRY_ALIGN - 1) & ~(size_t)(ENTRY_ALIGN - 1);
  /* Full: start over (the entries JS keeps answering come back on their next hit). */
  if (s->mirror_count >= MIRROR_MAX || s->arena_used + need > MIRROR_ARENA) mirror_clear(s);
  uint32_t i = h & (MIRROR_SLOTS - 1);
  for (; s->slots[i].hash != 0; i = (i + 1) & (MIRROR_SLOTS - 1)) {
    mirror_entry *e = entry_at(s, s->slots[i].off);
    if (s->slots[i].hash == h && e->klen == klen && memcmp(e->data, key, (size_t)klen) == 0) return NULL;
  }
  uint32_t off = (uint32_t)s->arena_used;
  mirror_entry *e = entry_at(s, off);
  s->arena_used += need;
  memset(e, 0, sizeof *e);
  e->hash = h;
  e->lines = (uint16_t)(need / ENTRY_ALIGN);
  e->klen = (uint16_t)klen;
  memcpy(e->data, key, (size_t)klen);
  s->slots[i].off = off;
  s->slots[i].hash = h;
  s->mirror_count++;
  return e;
}

/*
 * The templates dropped, the exact entries kept (a template flood at the cap, TMPL_MAX): the arena is walked
 * entry by entry, the exact ones slid down over the gaps (in order, so a move never overwrites one not yet
 * moved), the slots rebuilt from the kept entries' hashes and the freed tail of the arena given back. At
 * most a walk of 65,536 headers, a copy of the exact entries (< 32 MiB) and a rebuild of the 1 MiB table,
 * once a TMPL_REOPEN_MS; emptying the whole mirror instead would make JS answer every hot key again each
 * time. The seen filter stays (it marks exact keys). Not a change of runtime: mirror_gen stays.
 */
static void tmpl_reopen(batch_sock *s) {
  size_t to = 0;
  for (size_t at = 0; at < s->arena_used;) {
    mirror_entry *e = entry_at(s, (uint32_t)at);
    size_t size = (size_t)e->lines * ENTRY_ALIGN;
    if (e->data[0] != TMPL_MARK) {
      if (to != at) memmove(s->arena + to, e, size);
      to += size;
    }
    at += size;
  }
  memset(s->slots, 0, MIRROR_SLOTS * sizeof *s->slots);
  int count = 0;
  for (size_t at = 0; at < to; count++) {
    const mirror_entry *e = entry_at(s, (uint32_t)at);
    uint32_t i = e->hash & (MIRROR_SLOTS - 1);
    while (s->slots[i].hash != 0) i = (i + 1) & (MIRROR_SLOTS - 1);
    s->slots[i].hash = e->hash;
    s->slots[i].off = (uint32_t)at;
    at += (size_t)e->lines * ENTRY_ALIGN;
  }
  size_t keep = (to + 4095) & ~(size_t)4095;
  if (keep < s->arena_used) madvise(s->arena + keep, s->arena_used - keep, MADV_DONTNEED);
  s->arena_used = to;
  s->mirror_count = count;
  s->tmpl_count = 0;
  s->tmpl_bytes = 0;
  s->tmpl_reopens++;
}

/* The rrl bucket and metrics cell of a reply's send meta m (words 3 or 7 give the cell). */
static void entry_meta(mirror_entry *e, int cell, const int32_t *m) {
  e->cell = cell;
  e->rrl_a = (uint32_t)m[4];
  e->rrl_b = (uint32_t)m[5];
  e->rrl_rate = m[6] > 0 ? (uint32_t)m[6] : 0;
}

static void mirror_add(batch_sock *s, const uint8_t *q, int qlen, const uint8_t *reply, int rlen, const int32_t *m) {
  uint8_t key[MIRROR_MAX_KEY];
  int qend;
  int klen = mirror_key(q, qlen, key, &qend);
  if (klen < 0 || rlen < qend || rlen > SEND_SLOT) return;
  mirror_entry *e = mirror_insert(s, key, klen, mirror_hash(key, klen), sizeof(mirror_entry) + (size_t)klen + (size_t)rlen);
  if (e == NULL) return;
  e->rlen = (uint16_t)rlen;
  e->qend = (uint16_t)qend;
  entry_meta(e, m[3] - 2, m);
  memcpy(e->data + klen, reply, (size_t)rlen);
}

static inline uint8_t lower8(uint8_t c) {
  return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* FNV-1a of one label (length byte, lower-cased bytes) on the hash of its parent: src/zone/compiled.ts hashLabel. */
static uint32_t hash_label(uint32_t h, const uint8_t *label) {
  int len = label[0];
  h = (h ^ (uint32_t)len) * FNV_PRIME;
  for (int i = 1; i <= len; i++) h = (h ^ lower8(label[i])) * FNV_PRIME;
  return h;
}

/* Whether the zone's name at names[off] is (case-insensitively) the lower-cased wire name q; bounds checked. */
static int enc_same_name(const enc_zone *z, int32_t off, const uint8_t *q) {
  if (off < 0) return 0;
  size_t o = (size_t)off;
  for (;;) {
    if (o >= z->names_len || z->names[o] != q[0]) return 0;
    int len = q[0];
    if (len == 0) return 1;
    if (o + (size_t)len >= z->names_len) return 0;
    for (int i = 1; i <= len; i++)
      if (lower8(z->names[o + (size_t)i]) != q[i]) return 0;
    o += (size_t)len + 1;
    q += len + 1;
  }
}

/* The node named q (lower-cased wire, suffix hash h) in z's index, as CompiledStore.probe finds it; -1 if none. */
static int32_t enc_probe(const enc_zone *z, uint32_t h, const uint8_t *q) {
  uint32_t mask = z->mask;
  for (uint32_t i = h & mask, k = 0; k <= mask; i = (i + 1) & mask, k++) {
    int32_t e = z->index[i];
    if (e == 0) return -1;
    uint32_t n = (uint32_t)e - 1;
    if (n >= z->nodes) return -1; /* not an index of these nodes */
    if (z->node_hash[n] == h && enc_same_name(z, z->node_name[n], q)) return (int32_t)n;
  }
  return -1;
}

/*
 * The descent of contract point 4: name (lower-cased wire, well formed as mirror_key leaves it) in the
 * registered zone with the deepest apex that is a proper suffix of it, probed from the label below the apex
 * down. 1 and *out when a label is missing below E = the deepest node found; 0 when no zone holds it, a node
 * on the way (the apex included) has a cut or a DNAME, or the whole name exists.
 */
static int enc_descend(const enc_set *set, const uint8_t *name, enc_place *out) {
  if (set->n == 0) return 0;
  uint8_t offs[128];
  uint32_t hashes[129];
  int labels = 0, p = 0;
  while (name[p] != 0 && labels < 127) {
    offs[labels++] = (uint8_t)p;
    p += name[p] + 1;
  }
  if (name[p] != 0) return 0;
  hashes[labels] = FNV_SEED;
  for (int i = labels - 1; i >= 0; i--) hashes[i] = hash_label(hashes[i + 1], name + offs[i]);
  const enc_zone *z = NULL;
  int a = 1;
  for (; a <= labels && z == NULL; a++) {
    int at = a < labels ? offs[a] : p, slen = p + 1 - at;
    uint32_t h = hashes[a];
    for (uint32_t k = h & (ENC_APEX_SLOTS - 1); set->apex_slot[k] != 0; k = (k + 1) & (ENC_APEX_SLOTS - 1)) {
      const enc_zone *c = &set->zones[set->apex_slot[k] - 1];
      if (c->apex_hash == h && c->apex_len == slen && memcmp(c->apex, name + at, (size_t)slen) == 0) {
        z = c;
        break;
      }
    }
  }
  if (z == NULL) return 0;
  a--; /* the apex's label index */
  int32_t node = enc_probe(z, hashes[a], name + (a < labels ? offs[a] : p));
  if (node < 0 || (z->node_flags[node] & (F_CUT | F_DNAME))) return 0;
  for (int i = a - 1; i >= 0; i--) {
    int32_t n = enc_probe(z, hashes[i], name + offs[i]);
    if (n < 0) {
      out->zone = (int)(z - set->zones);
      out->node = node;
      out->n_off = offs[i];
      return 1;
    }
    if (z->node_flags[n] & (F_CUT | F_DNAME)) return 0;
    node = n;
  }
  return 0;
}

/* Whether the label at l sorts after "*" in canonical order (RFC 4034 §6.1; l lower-cased). */
static inline int after_star(const uint8_t *l) {
  return l[1] > 0x2a || (l[1] == 0x2a && l[0] > 1);
}

/*
 * The head of the template key of a query whose mirror key is mkey, placed at pl: marker, zone slot, E's
 * node, whether n sorts after "*", the header bytes of the mirror key. The key goes on with the mirror key
 * after the name (qtype, qclass, the rest of the datagram: tmpl_key).
 */
static void tmpl_head(const uint8_t *mkey, const enc_place *pl, uint8_t *out) {
  out[0] = TMPL_MARK;
  out[1] = (uint8_t)pl->zone;
  memcpy(out + 2, &pl->node, 4);
  out[6] = (uint8_t)after_star(mkey + 10 + pl->n_off);
  memcpy(out + 7, mkey, 10);
}

/* The whole template key into out (qend: the question's end in the datagram); its length. */
static int tmpl_key(const uint8_t *mkey, int klen, int qend, const enc_place *pl, uint8_t *out) {
  int rest = qend - 4 - 2; /* the name's end in mirror-key coordinates */
  tmpl_head(mkey, pl, out);
  memcpy(out + TMPL_KEY_HEAD, mkey + rest, (size_t)(klen - rest));
  return TMPL_KEY_HEAD + klen - rest;
}

/* What reading a reply's names for a template collects (tmpl_learn). */
typedef struct {
  int name_end; /* the question name's end (its root label + 1) */
  int qend;
  int s_at;     /* the deepest question offset a pointer reaches (the suffix S), the root by default */
  int np, nn;
  uint16_t ptrs[SEND_SLOT / 2]; /* offsets of the pointers that move with the question's length */
  uint16_t names[SEND_SLOT / 2]; /* where each name of the reply starts (synthesized owners aside) */
} tmpl_scan;

/*
 * The end of the reply name at r[p] (labels, then a root label or a pointer), its pointer recorded to move
 * and its start kept for the guards; -1 when malformed or when the pointer may not be moved: a target not
 * before it, in the header, in qtype/qclass, or the question's start (only a synthesized owner may be that).
 */
static int tmpl_name(const uint8_t *r, int rlen, int p, tmpl_scan *t) {
  t->names[t->nn++] = (uint16_t)p;
  int len = 0;
  while (p < rlen) {
    uint8_t c = r[p];
    if (c == 0) return p + 1;
    if ((c & 0xc0) == 0xc0) {
      if (p + 2 > rlen) return -1;
      int to = ((c & 0x3f) << 8) | r[p + 1];
      if (to >= p || to <= 12 || (to >= t->name_end && to < t->qend)) return -1;
      if (to < t->name_end && to < t->s_at) t->s_at = to;
      t->ptrs[t->np++] = (uint16_t)p;
      return p + 2;
    }
    if (c > 63) return -1;
    len += c + 1;
    if (len > 255) return -1;
    p += c + 1;
  }
  return -1;
}

/* The lower-cased name at r[p], pointers followed (each points back), into out; its length, or -1. */
static int expand_name(const uint8_t *r, int rlen, int p, uint8_t *out) {
  int n = 0;
  while (p < rlen) {
    uint8_t c = r[p];
    if ((c & 0xc0) == 0xc0) {
      if (p + 1 >= rlen) return -1;
      int to = ((c & 0x3f) << 8) | r[p + 1];
      if (to >= p) return -1;
      p = to;
      continue;
    }
    if (c > 63 || n + c + 1 > 255 || p + c >= rlen) return -1;
    out[n] = c;
    for (int i = 1; i <= c; i++) out[n + i] = lower8(r[p + i]);
    n += c + 1;
    if (c == 0) return n;
    p += c + 1;
  }
  return -1;
}

/*
 * Learns a template from a reply JS marked encloser-determined (send meta word 7, contract point 4): the
 * query q (qlen bytes) placed under its closest encloser E; the reply r read record by record (owner, the
 * RDATA names of the types our encoders compress, RFC 3597 §4; other RDATA opaque), its pointers into the
 * question giving the suffix S the reply depends on, and the label before S of every reply name ending in S
 * kept as a guard (a question with that label there would have been compressed otherwise). Kept with the
 * mirror's entries (emptied with them). Nothing learnt from a reply with TC, a TSIG or SIG(0), a pointer
 * to the question's start other than a synthesized answer owner's, or anything it cannot read.
 */
static void tmpl_learn(batch_sock *s, const uint8_t *q, int qlen, const uint8_t *r, int rlen, const int32_t *m) {
  uint32_t w = (uint32_t)m[7];
  uint8_t key[MIRROR_MAX_KEY];
  int qend;
  int klen = mirror_key(q, qlen, key, &qend);
  if (klen < 0) return;
  /* Asked once: its next ask, answered from a template, also goes into the mirror (on_readable). */
  seen_mark(s, mirror_hash(key, klen));
  if (s->tmpl_count >= TMPL_MAX || s->tmpl_bytes >= TMPL_ARENA) {
    int64_t now = clock_ms(s);
    if (now - s->tmpl_since < TMPL_REOPEN_MS) return;
    tmpl_reopen(s);
    s->tmpl_since = now;
  }
  if (rlen < qend || rlen > SEND_SLOT || (r[2] & 0x02) || memcmp(r + 12, q + 12, (size_t)(qend - 12)) != 0) return;
  enc_place pl;
  if (!enc_descend(&s->enc, key + 10, &pl)) return;
  if ((w & W7_AFTER_STAR) && !after_star(key + 10 + pl.n_off)) return;
  tmpl_scan t; /* 8 KiB: a reply of 4096 bytes has at most 2048 names and pointers */
  t.name_end = qend - 4;
  t.qend = qend;
  t.s_at = qend - 5; /* the root label */
  t.np = t.nn = 0;
  int p = qend;
  for (int sec = 0; sec < 3; sec++) {
    int count = (r[6 + 2 * sec] << 8) | r[7 + 2 * sec];
    for (int k = 0; k < count; k++) {
      if (p >= rlen || t.nn >= SEND_SLOT / 2 - 3) return;
      /* A synthesized owner (a wildcard answer's): the whole question, a pointer to 12 kept as it is. */
      if (sec == 0 && p + 1 < rlen && r[p] == 0xc0 && r[p + 1] == 12) p += 2;
      else if ((p = tmpl_name(r, rlen, p, &t)) < 0) return;
      if (p + 10 > rlen) return;
      int type = (r[p] << 8) | r[p + 1];
      int rd = p + 10, end = rd + ((r[p + 8] << 8) | r[p + 9]);
      if (end > rlen || type == 250 || type == 24) return;
      int x = rd;
      switch (type) {
        case 2: case 3: case 4: case 5: case 7: case 8: case 9: case 12: /* NS MD MF CNAME MB MG MR PTR */
          x = tmpl_name(r, end, rd, &t);
          break;
        case 6: /* SOA: MNAME, RNAME, five numbers */
          x = tmpl_name(r, end, rd, &t);
          if (x >= 0) x = tmpl_name(r, end, x, &t);
          if (x >= 0) x += 20;
          break;
        case 14: /* MINFO */
          x = tmpl_name(r, end, rd, &t);
          if (x >= 0) x = tmpl_name(r, end, x, &t);
          break;
        case 15: /* MX: preference, exchange */
          x = rd + 2 <= end ? tmpl_name(r, end, rd + 2, &t) : -1;
          break;
        default:
          x = end;
      }
      if (x != end) return;
      p = end;
    }
  }
  if (p != rlen) return;
  /* S must start a label of the question. */
  int l = 12;
  while (l < t.s_at) l += r[l] + 1;
  if (l != t.s_at) return;
  const uint8_t *suffix = key + 10 + (t.s_at - 12);
  int slen = t.name_end - t.s_at;
  /* A signed NSEC3 reply (word 7 bit 29): the NSEC3 covering the next closer name is cut out, a hole each
   * replay fills with its own (nsec3.h n3_cut); the guards below are those of the reply without it. */
  uint8_t cut[SEND_SLOT], ext[N3_EXT_MAX];
  int ext_len = 0;
  if (w & W7_NSEC3) {
    const enc_zone *z = &s->enc.zones[pl.zone];
    int name_len = qend - 4 - 12;
    rlen = n3_cut(&z->n3, key + 10 + pl.n_off, name_len - pl.n_off, t.name_end, z->apex_len, r, rlen, t.ptrs, &t.np, t.names, &t.nn, cut, ext, &ext_len);
    if (rlen < 0) return;
    r = cut;
  }
  uint8_t guards[TMPL_MAX_GUARDS];
  int glen = 0;
  for (int i = 0; i < t.nn; i++) {
    uint8_t full[256];
    int n = expand_name(r, rlen, t.names[i], full);
    if (n < 0) return;
    if (n <= slen || memcmp(full + n - slen, suffix, (size_t)slen) != 0) continue;
    int prev = -1, at = 0;
    while (at < n - slen) {
      prev = at;
      at += full[at] + 1;
    }
    if (at != n - slen || prev < 0) continue;
    int gl = full[prev] + 1, dup = 0;
    for (int g = 0; g < glen && !dup; g += guards[g] + 1) dup = guards[g] + 1 == gl && memcmp(guards + g, full + prev, (size_t)gl) == 0;
    if (dup) continue;
    if (glen + gl > TMPL_MAX_GUARDS) return;
    memcpy(guards + glen, full + prev, (size_t)gl);
    glen += gl;
  }
  uint8_t tkey[MIRROR_MAX_KEY];
  int tk = tmpl_key(key, klen, qend, &pl, tkey);
  size_t need = sizeof(mirror_entry) + (size_t)tk + (size_t)rlen + (size_t)slen + (size_t)glen + 2 * (size_t)t.np + (size_t)ext_len;
  mirror_entry *e = mirror_insert(s, tkey, tk, mirror_hash(tkey, tk), need);
  if (e == NULL) return;
  e->rlen = (uint16_t)rlen;
  e->qend = (uint16_t)qend;
  e->slen = (uint16_t)slen;
  e->glen = (uint16_t)glen;
  e->pcount = (uint16_t)t.np;
  e->tflags = ((w & W7_AFTER_STAR) ? 1 : 0) | ((w & W7_NSEC3) ? TMPL_NSEC3 : 0) | ((w & W7_BY_LEN) ? TMPL_BY_LEN : 0);
  entry_meta(e, (int)(w & W7_CELL) - 2, m);
  uint8_t *d = e->data + tk;
  memcpy(d, r, (size_t)rlen);
  memcpy(d + rlen, suffix, (size_t)slen);
  memcpy(d + rlen + slen, guards, (size_t)glen);
  memcpy(d + rlen + slen + glen, t.ptrs, 2 * (size_t)t.np);
  memcpy(d + rlen + slen + glen + 2 * t.np, ext, (size_t)ext_len);
  s->tmpl_count++;
  s->tmpl_bytes += (need + ENTRY_ALIGN - 1) & ~(size_t)(ENTRY_ALIGN - 1);
}

/*
 * A batch's template lookups, made like the mirror's (mirror_probe_batch) and after them: each datagram
 * the mirror has no reply for is placed under its closest encloser, its template key hashed and its slot
 * prefetched; then each slot's entry is prefetched; tmpl_finish compares. The misses overlap.
 */
static void tmpl_probe_batch(batch_sock *s, int n) {
  mirror_probe *probes = s->probes;
  for (int i = 0; i < n; i++) {
    mirror_probe *pr = &probes[i];
    pr->tk = 0;
    if (pr->klen < 0 || mirror_probe_finish(s, pr) != NULL || !enc_descend(&s->enc, pr->key + 10, &pr->pl)) continue;
    tmpl_head(pr->key, &pr->pl, pr->thead);
    int rest = pr->qend - 6;
    pr->thash = hash_final(fnv_more(fnv_more(0x811c9dc5u, pr->thead, TMPL_KEY_HEAD), pr->key + rest, pr->klen - rest));
    pr->tslot = pr->thash & (MIRROR_SLOTS - 1);
    __builtin_prefetch(&s->slots[pr->tslot]);
    pr->tk = 1;
  }
  for (int i = 0; i < n; i++) {
    mirror_probe *pr = &probes[i];
    if (!pr->tk) continue;
    pr->te = NULL;
    for (uint32_t k = pr->tslot; s->slots[k].hash != 0; k = (k + 1) & (MIRROR_SLOTS - 1)) {
      if (s->slots[k].hash == pr->thash) {
        pr->tslot = k;
        pr->te = entry_at(s, s->slots[k].off);
        prefetch_entry(pr->te);
        break;
      }
    }
  }
}

/*
 * Whether template e fits the query of pr (contract point 5): S at a label start of its name, the label
 * before S not a guard, n after "*" if the template says so, and the reply not longer than the learnt one
 * unless it stays within 512 bytes.
 */
static int tmpl_fits(batch_sock *s, const mirror_entry *e, mirror_probe *pr) {
  const uint8_t *name = pr->key + 10;
  if ((e->tflags & 1) && !after_star(name + pr->pl.n_off)) return 0;
  int delta = pr->qend - e->qend;
  int len = e->rlen + delta, grow = delta;
  const uint8_t *d = e->data + e->klen + e->rlen;
  if (e->tflags & TMPL_NSEC3) {
    /* The hole's block for this name (nsec3.h n3_place): the size rule on the reply with it. */
    const uint8_t *ext = d + e->slen + e->glen + 2 * e->pcount;
    int more = 0;
    pr->n3_place = n3_place(&s->enc.zones[pr->pl.zone].n3, name, pr->qend - 4 - 12, pr->pl.n_off, s->enc.zones[pr->pl.zone].apex_len, ext, &more);
    if (pr->n3_place < 0) return 0;
    len += (ext[2] << 8 | ext[3]) + more;
    grow += more;
    /* Another name's block may be longer than the learnt one: the reply may still be what the engine sends
     * whole, up to the payload it allows (answer/encode.ts: the query's EDNS size within 512 and
     * limits.udpPayload; the query's only additional record its OPT, RFC 6891 §6.1.2). */
    const uint8_t *k = pr->key + pr->qend - 2; /* the mirror key is the datagram from byte 2 */
    int limit = 512;
    if (s->enc.udp_payload > 0 && pr->key[8] == 0 && pr->key[9] == 1 && pr->klen >= pr->qend - 2 + 11 && k[0] == 0 && k[1] == 0 && k[2] == 41) {
      int size = k[3] << 8 | k[4];
      limit = size < s->enc.udp_payload ? size : s->enc.udp_payload;
      if (limit < 512) limit = 512;
    }
    if (len <= limit) grow = 0;
  }
  if ((grow > 0 && len > 512) || len > SEND_SLOT) return 0;
  int nlen = pr->qend - 4 - 12, s_at = nlen - e->slen;
  if (s_at < 0 || memcmp(name + s_at, d, e->slen) != 0) return 0;
  int prev = -1, p = 0;
  while (p < s_at) {
    prev = p;
    p += name[p] + 1;
  }
  if (p != s_at) return 0;
  if (prev >= 0) {
    int gl = name[prev] + 1;
    for (const uint8_t *g = d + e->slen, *gend = g + e->glen; g < gend; g += g[0] + 1)
      if (g[0] + 1 == gl && memcmp(g, name + prev, (size_t)gl) == 0) return 0;
  }
  /* Counted by length: room for one more (cell, length) pair, the table made on first use. */
  if (e->tflags & TMPL_BY_LEN) {
    if (e->cell < 0 || e->cell >= (1 << (31 - LEN_CELL_LEN_BITS)) || s->len_used >= LEN_CELL_SLOTS / 2) return 0;
    if (s->len_keys == NULL) {
      s->len_keys = calloc(LEN_CELL_SLOTS, sizeof *s->len_keys);
      s->len_hits = calloc(LEN_CELL_SLOTS, sizeof *s->len_hits);
      if (s->len_keys == NULL || s->len_hits == NULL) {
        free(s->len_keys);
        free(s->len_hits);
        s->len_keys = NULL;
        s->len_hits = NULL;
        return 0;
      }
    }
  }
  return 1;
}

/* One replay of a W7_BY_LEN template, len bytes long (tmpl_fits left room for its pair). */
static void count_len_cell(batch_sock *s, int cell, int len) {
  uint32_t key = ((uint32_t)cell << LEN_CELL_LEN_BITS | (uint32_t)len) + 1;
  for (uint32_t i = (key * 2654435761u) & (LEN_CELL_SLOTS - 1);; i = (i + 1) & (LEN_CELL_SLOTS - 1)) {
    if (s->len_keys[i] == 0) {
      s->len_keys[i] = key;
      s->len_used++;
    }
    if (s->len_keys[i] == key) {
      s->len_hits[i]++;
      return;
    }
  }
}

/* The template for pr's query (its probe made by tmpl_probe_batch) if there is one and it fits, or NULL. */
static mirror_entry *tmpl_finish(batch_sock *s, mirror_probe *pr) {
  if (!pr->tk) return NULL;
  int rest = pr->qend - 6, rlen = pr->klen - rest;
  while (pr->te != NULL) {
    mirror_entry *e = pr->te;
    if (e->klen == TMPL_KEY_HEAD + rlen && memcmp(e->data, pr->thead, TMPL_KEY_HEAD) == 0 &&
        memcmp(e->data + TMPL_KEY_HEAD, pr->key + rest, (size_t)rlen) == 0)
      return tmpl_fits(s, e, pr) ? e : NULL;
    pr->te = NULL;
    for (uint32_t k = (pr->tslot + 1) & (MIRROR_SLOTS - 1); s->slots[k].hash != 0; k = (k + 1) & (MIRROR_SLOTS - 1)) {
      if (s->slots[k].hash == pr->thash) {
        pr->tslot = k;
        pr->te = entry_at(s, s->slots[k].off);
        break;
      }
    }
  }
  return NULL;
}

/* Template e made the reply to query q (question ending at qend; pr its probe) into out: its length. */
static int tmpl_write(const batch_sock *s, const mirror_entry *e, const mirror_probe *pr, const uint8_t *q, int qend, uint8_t *out) {
  const uint8_t *r = e->data + e->klen;
  int delta = qend - e->qend;
  memcpy(out, r, 12);
  memcpy(out + 12, q + 12, (size_t)(qend - 12));
  memcpy(out + qend, r + e->qend, (size_t)(e->rlen - e->qend));
  const uint8_t *pp = r + e->rlen + e->slen + e->glen;
  for (int k = 0; k < e->pcount; k++) {
    uint16_t off;
    memcpy(&off, pp + 2 * k, 2);
    uint8_t *at = out + off + delta;
    int v = (((at[0] & 0x3f) << 8) | at[1]) + delta;
    at[0] = (uint8_t)(0xc0 | (v >> 8));
    at[1] = (uint8_t)v;
  }
  if (e->tflags & TMPL_NSEC3) {
    const enc_zone *z = &s->enc.zones[e->data[1]];
    return n3_fill(&z->n3, pr->n3_place, pp + 2 * e->pcount, pp, e->pcount, delta, qend, z->apex_len, out, e->rlen + delta);
  }
  return e->rlen + delta;
}

static inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  return h ^ (h >> 16);
}

#define RRL_PRIME_A 0x01000193u
#define RRL_PRIME_B 0x5bd1e995u
#define RRL_EXTRA 0x1000000u

/* Whether the first len bits of a and b are equal. */
static int prefix_equal(const uint8_t *a, const uint8_t *b, int len) {
  int n = len >> 3;
  if (memcmp(a, b, (size_t)n) != 0) return 0;
  int rest = len & 7;
  if (rest == 0) return 1;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a[n] & mask) == (b[n] & mask);
}

/*
 * The hash of the client prefix of addr (family 4 or 6, the configured prefix length): its first bytes, host
 * bits zeroed, with family and length mixed in — src/modules/rrl/name-hash.ts hashPrefix; keep the two in step.
 */
static void rrl_prefix_hash(const rrl_share *r, int family, const uint8_t *addr, uint32_t *out_a, uint32_t *out_b) {
  int len = family == 4 ? r->v4len : r->v6len;
  uint32_t a = r->seed_a, b = r->seed_b;
  int n = (len + 7) >> 3;
  for (int i = 0; i < n; i++) {
    uint32_t c = addr[i];
    if (i == n - 1 && (len & 7)) c &= (0xffu << (8 - (len & 7))) & 0xffu;
    a = (a ^ c) * RRL_PRIME_A;
    b = (b ^ c) * RRL_PRIME_B;
  }
  uint32_t extra = ((uint32_t)family << 8) | (uint32_t)len | RRL_EXTRA;
  *out_a = fmix32((a ^ extra) * RRL_PRIME_A);
  *out_b = fmix32((b ^ extra) * RRL_PRIME_B);
}

/*
 * Whether the replay e to peer may go out under rrl, spending its bucket's credit if so. The same as the
 * rrl unit (src/modules/rrl/index.ts): exempt prefixes pass uncounted; the key is the entry's kind-and-name
 * hash xor the client prefix's hash (name-hash.ts hashPrefix: seeds, the prefix's bytes, family and length);
 * the credit as RateLimiter.checkHash computes it, in doubles as JS does. No bucket, or no credit: 0, and
 * nothing written (JS then runs the check itself, on the same state).
 */
static int rrl_pass(rrl_share *r, const mirror_entry *e, const struct sockaddr_storage *peer, double now) {
  if (e->rrl_rate == 0) return 0;
  uint8_t addr[16];
  int family;
  if (peer->ss_family == AF_INET) {
    family = 4;
    memcpy(addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
  } else {
    const uint8_t *a6 = (const uint8_t *)&((const struct sockaddr_in6 *)peer)->sin6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    /* An IPv4-mapped peer is its IPv4 address, as net/cidr.ts parseAddress reads it. */
    if (memcmp(a6, mapped, 12) == 0) {
      family = 4;
      memcpy(addr, a6 + 12, 4);
    } else {
      family = 6;
      memcpy(addr, a6, 16);
    }
  }
  for (int i = 0; i < r->nexempt; i++) {
    const uint8_t *x = r->exempt + (size_t)i * RRL_EXEMPT_BYTES;
    if (x[0] == family && prefix_equal(x + 2, addr, x[1])) return 1;
  }
  uint32_t a, b;
  rrl_prefix_hash(r, family, addr, &a, &b);
  int32_t ka = (int32_t)(e->rrl_a ^ a), kb = (int32_t)(e->rrl_b ^ b);
  uint32_t mask = r->mask, sl = (uint32_t)ka & mask;
  for (;; sl = (sl + 1) & mask) {
    if (r->place[sl] == 0) return 0;
    if (r->key_a[sl] == ka && r->key_b[sl] == kb) break;
  }
  double rate = (double)e->rrl_rate;
  double since = now - r->at[sl];
  double earned = (since > 0 ? since : 0) * rate;
  double full = rate * 1000, bal = r->balance[sl] + earned;
  if (bal > full) bal = full;
  if (bal < 1000) return 0;
  r->balance[sl] = bal - 1000;
  r->at[sl] = now;
  r->limited[sl] = 0;
  r->ok[0] += 1;
  return 1;
}

static void count_cell(batch_sock *s, int cell) {
  if (cell < 0) {
    s->replayed_uncelled++;
    return;
  }
  if (cell >= s->cell_cap) {
    int n = s->cell_cap ? s->cell_cap : 1024;
    while (n <= cell) n *= 2;
    double *g = realloc(s->cell_hits, (size_t)n * sizeof *g);
    if (g == NULL) {
      s->replayed_uncelled++;
      return;
    }
    memset(g + s->cell_cap, 0, (size_t)(n - s->cell_cap) * sizeof *g);
    s->cell_hits = g;
    s->cell_cap = n;
  }
  s->cell_hits[cell]++;
}

#define CHECK(call)                                                                            \
  do {                                                                                         \
    if ((call) != napi_ok) {                                                                   \
      napi_throw_error(env, NULL, "fluxdns_udp: " #call " failed");                            \
      return NULL;                                                                             \
    }                                                                                          \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value m, code, e;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : "ESYSCALL";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, m, &e);
  napi_throw(env, e);
  return NULL;
}

static int fill_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    *len = sizeof *a6;
    return AF_INET6;
  }
  return -1;
}

/* The offset after the (possibly compressed) name at m[at], or 0 when it runs past len or is malformed. */
static size_t skip_name(const uint8_t *m, size_t len, size_t at) {
  while (at < len) {
    uint8_t c = m[at];
    if (c == 0) return at + 1;
    if ((c & 0xc0) == 0xc0) return at + 2 <= len ? at + 2 : 0;
    if (c & 0xc0) return 0;
    at += (size_t)c + 1;
  }
  return 0;
}

/*
 * A reply the kernel refused as larger than the interface MTU (EMSGSIZE: IPv4 sockets set DF, see open)
 * cut down to its header, question and OPT record with TC set, so the client retries over TCP (RFC 9715
 * §3.1: a responder that cannot send a response unfragmented MAY send it with TC). The OPT record stays
 * because a response to an EDNS query carries one (RFC 6891 §7): its payload size, extended rcode bits
 * and cookie still hold. Written to out (which may be m: everything kept moves towards the start), at most
 * cap bytes; returns the new length, or 0 when the message is no DNS reply with one question that fits.
 */
static size_t truncate_to_tc(const uint8_t *m, size_t len, uint8_t *out, size_t cap) {
  if (len < 12 || m[4] != 0 || m[5] != 1) return 0;
  size_t at = 12;
  while (at < len && m[at] != 0) {
    if (m[at] >= 0x40) return 0; /* a question name is written out, never compressed */
    at += (size_t)m[at] + 1;
  }
  at += 1 + 4;
  if (at > len || at > cap) return 0;
  /* The OPT record: owner the root, type 41, anywhere in the three sections (it is in the additional one).
   * A TSIG-signed reply is not cut: its truncated form must be signed too (RFC 8945 §5.3), which only JS can. */
  size_t opt = 0, opt_len = 0, rr = at;
  unsigned records = ((unsigned)m[6] << 8 | m[7]) + ((unsigned)m[8] << 8 | m[9]) + ((unsigned)m[10] << 8 | m[11]);
  for (unsigned i = 0; i < records; i++) {
    size_t n = skip_name(m, len, rr);
    if (n == 0 || n + 10 > len) break;
    size_t end = n + 10 + ((size_t)m[n + 8] << 8 | m[n + 9]);
    if (end > len) break;
    if (m[n] == 0 && m[n + 1] == 250) return 0;
    if (m[rr] == 0 && m[n] == 0 && m[n + 1] == 41 && opt_len == 0) {
      opt = rr;
      opt_len = end - rr;
    }
    rr = end;
  }
  if (at + opt_len > cap) opt_len = 0;
  if (out != m) memcpy(out, m, at);
  if (opt_len > 0) memmove(out + at, m + opt, opt_len);
  out[2] |= 0x02;
  memset(out + 6, 0, 6); /* no answer, authority or additional records … */
  if (opt_len > 0) out[11] = 1; /* … but the OPT record */
  return at + opt_len;
}

/* Sends replies [from, n) with as few sendmmsg calls as the kernel allows. A message the kernel
 * refuses (unreachable peer, EPERM from a firewall) is skipped; EAGAIN (send buffer full) drops the
 * rest of the batch: UDP gives no delivery promise and DNS clients retry (RFC 1035 §4.2.1). */
static void send_batch(batch_sock *s, int n) {
  int from = 0;
  /* The message cut to TC and not sent yet (-1: none): counted in truncated_replies only once it went
   * out, so a cut reply that fails again is a send error alone. */
  int cut_at = -1;
  while (from < n) {
    int r = sendmmsg(s->fd, s->smsgs + from, (unsigned)(n - from), MSG_DONTWAIT);
    s->send_calls++;
    if (r > 0) {
      if (cut_at >= from && cut_at < from + r) s->truncated_replies++;
      cut_at = -1;
      s->sent += r;
      from += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      s->send_errors += n - from;
      return;
    }
    /* Too long for the interface with DF set: sent again as a truncated reply (TC) once. */
    if (r < 0 && errno == EMSGSIZE) {
      struct iovec *iov = s->smsgs[from].msg_hdr.msg_iov;
      size_t cut = truncate_to_tc(iov->iov_base, iov->iov_len, iov->iov_base, iov->iov_len);
      if (cut > 0 && cut < iov->iov_len) {
        iov->iov_len = cut;
        cut_at = from;
        continue;
      }
    }
    /* The first remaining message failed on its own: skip it and send the others. */
    s->send_errors++;
    from++;
  }
}

/* Message headers for the nh replies made from the mirror: the first nh of the send batch (their iovecs
 * were set when the replies were made). */
static void native_msgs(batch_sock *s, int nh) {
  for (int i = 0; i < nh; i++) {
    struct msghdr *h = &s->smsgs[i].msg_hdr;
    h->msg_name = &s->naddr[i];
    h->msg_namelen = s->nalen[i];
    h->msg_iov = &s->siov[i];
    h->msg_iovlen = 1;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
  }
}

static void call_js(batch_sock *s, int count, int nh) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv_ab, global, argv[2], result;
  napi_get_reference_value(env, s->callback, &cb);
  napi_get_reference_value(env, s->recv_ab, &recv_ab);
  napi_get_global(env, &global);
  napi_create_int32(env, count, &argv[0]);
  argv[1] = recv_ab;
  int32_t replies = 0;
  unsigned gen = s->mirror_gen;
  /* make_callback runs the microtask queue afterwards, as libuv-driven callbacks in Node core do. */
  napi_status st = napi_make_callback(env, s->async, global, cb, 2, argv, &result);
  /* A swap inside the batch (an UPDATE applied synchronously, a reload's turn) emptied the mirror while
   * replies made before it, from the old data, sit in the send buffer: none of this batch is kept. */
  int keep = s->mirror_gen == gen;
  if (st == napi_ok) {
    napi_get_value_int32(env, result, &replies);
  } else {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  if (replies > count) replies = count;
  native_msgs(s, nh);
  int n = nh;
  for (int i = 0; i < replies; i++) {
    int32_t *m = s->send_meta + i * SEND_STRIDE;
    int idx = m[0], off = m[1], len = m[2];
    if (idx < 0 || idx >= count || off < 0 || len <= 0 || off + len > s->batch * SEND_SLOT) continue;
    /* A plain answer-cache hit: kept for the next datagram with these bytes (the query is still at idx). */
    if (m[3] > 0 && s->mirror_on && keep)
      mirror_add(s, s->recv + (size_t)idx * STRIDE, s->recv_meta[idx * RECV_STRIDE], s->send + off, len, m);
    /* An encloser-determined reply: a template for the names under the same closest encloser. */
    if (m[7] > 0 && s->mirror_on && keep && s->enc.n > 0)
      tmpl_learn(s, s->recv + (size_t)idx * STRIDE, s->recv_meta[idx * RECV_STRIDE], s->send + off, len, m);
    s->siov[n].iov_base = s->send + off;
    s->siov[n].iov_len = (size_t)len;
    struct msghdr *h = &s->smsgs[n].msg_hdr;
    h->msg_name = &s->raddr[idx];
    h->msg_namelen = s->rmsgs[idx].msg_hdr.msg_namelen;
    h->msg_iov = &s->siov[n];
    h->msg_iovlen = 1;
    h->msg_control = NULL;
    h->msg_controllen = 0;
    h->msg_flags = 0;
    n++;
  }
  if (n > 0) send_batch(s, n);
  if (s->detach_pending && !s->closing) {
    /* JS kept views of this batch for a reply still pending: read the next batch elsewhere. */
    napi_value ab;
    void *data = NULL;
    size_t len = 0;
    int ok = 0;
    if (s->next_ab) {
      /* A recycled buffer (no reply pending on it any more): no allocation, no GC pressure per grant. */
      ok = napi_get_reference_value(env, s->next_ab, &ab) == napi_ok && ab != NULL &&
           napi_get_arraybuffer_info(env, ab, &data, &len) == napi_ok && len >= (size_t)s->batch * STRIDE;
      napi_delete_reference(env, s->next_ab);
      s->next_ab = NULL;
    }
    if (!ok) ok = napi_create_arraybuffer(env, (size_t)s->batch * STRIDE, &data, &ab) == napi_ok;
    if (ok) {
      napi_delete_reference(env, s->recv_ab);
      napi_create_reference(env, ab, 1, &s->recv_ab);
      s->recv = data;
    }
    s->detach_pending = 0;
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  batch_sock *s = handle->data;
  if (s->closing || status < 0) return;
  for (int round = 0; round < MAX_ROUNDS && !s->closing; round++) {
    /* The headers of the last read are rebuilt only where recvmmsg wrote (name length, flags); all of
     * them when the receive buffer changed (detach). */
    if (s->hdr_recv == s->recv) {
      for (int i = 0; i < s->hdr_used; i++) {
        s->rmsgs[i].msg_hdr.msg_namelen = sizeof s->raddr[i];
        s->rmsgs[i].msg_hdr.msg_flags = 0;
      }
    } else for (int i = 0; i < s->batch; i++) {
      s->riov[i].iov_base = s->recv + (size_t)i * STRIDE;
      s->riov[i].iov_len = SLOT;
      struct msghdr *h = &s->rmsgs[i].msg_hdr;
      h->msg_name = &s->raddr[i];
      h->msg_namelen = sizeof s->raddr[i];
      h->msg_iov = &s->riov[i];
      h->msg_iovlen = 1;
      h->msg_control = NULL;
      h->msg_controllen = 0;
      h->msg_flags = 0;
    }
    s->hdr_recv = s->recv;
    int r = recvmmsg(s->fd, s->rmsgs, (unsigned)s->batch, MSG_DONTWAIT, NULL);
    s->recv_calls++;
    s->hdr_used = r > 0 ? r : 0;
    if (r < 0) {
      /* EAGAIN: drained. Anything else (an ICMP error queued on the socket, ENOMEM) is not about a
       * query we could answer: ignore it and wait for the next readiness event. */
      return;
    }
    if (r == 0) return;
    int kept = 0, nh = 0, promote = 0;
    size_t nsend_used = 0;
    int mirror = s->mirror_on && s->mirror_count > 0;
    if (mirror) mirror_probe_batch(s, r);
    /* Templates are looked for only after the mirror missed (the hit path does nothing more). */
    int templates = mirror && s->tmpl_count > 0 && s->enc.n > 0;
    if (templates) tmpl_probe_batch(s, r);
    /* The batch's arrival in ms since the epoch, as JS's Date.now() (answer/clock.ts) reads it. */
    double now = 0;
    if (mirror && s->rrl.on) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      now = (double)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    }
    for (int i = 0; i < r; i++) {
      struct msghdr *h = &s->rmsgs[i].msg_hdr;
      int32_t *m = s->recv_meta + kept * RECV_STRIDE;
      if (h->msg_flags & MSG_TRUNC) {
        s->truncated++;
        continue;
      }
      if (mirror) {
        mirror_probe *pr = &s->probes[i];
        const uint8_t *q = s->recv + (size_t)i * STRIDE;
        mirror_entry *e = pr->klen < 0 ? NULL : mirror_probe_finish(s, pr);
        /* No reply for these bytes: one for the names under the same closest encloser, if learnt. */
        int shaped = e == NULL && templates && (e = tmpl_finish(s, pr)) != NULL;
        /* Under rrl, a replay without credit in its bucket is JS's to limit (or to make the bucket for). */
        if (e != NULL && s->rrl.on && !rrl_pass(&s->rrl, e, &s->raddr[i], now)) e = NULL;
        if (e != NULL) {
          /* The stored reply made this query's: ID, RD, CD and the question as sent (its case). */
          uint8_t *out = s->nsend + nsend_used;
          int len = e->rlen;
          if (shaped) {
            len = tmpl_write(s, e, pr, q, pr->qend, out);
            s->shaped++;
            /* A name asked before (a repeated NXDOMAIN or wildcard name): its exact reply joins the
             * mirror, so the next ask is a plain hit (no descent, no template fit, no copy with moves).
             * Counted by length, only one as long as the learnt reply: a mirror entry's cell is its exact
             * length's, and only JS numbers cells. */
            if ((!(e->tflags & TMPL_BY_LEN) || len == e->rlen) && seen_mark(s, pr->hash)) {
              pr->promote = 1;
              pr->pout = (uint32_t)nsend_used;
              pr->plen = len;
              pr->pcell = e->cell;
              pr->prrl_a = e->rrl_a;
              pr->prrl_b = e->rrl_b;
              pr->prrl_rate = e->rrl_rate;
              promote++;
            }
          } else {
            memcpy(out, e->data + e->klen, e->rlen);
            memcpy(out + 12, q + 12, (size_t)(e->qend - 12));
          }
          nsend_used += ((size_t)len + 15) & ~(size_t)15;
          out[0] = q[0];
          out[1] = q[1];
          out[2] = (uint8_t)((out[2] & 0xfe) | (q[2] & 0x01));
          out[3] = (uint8_t)((out[3] & 0xef) | (q[3] & 0x10));
          s->siov[nh].iov_base = out;
          s->siov[nh].iov_len = (size_t)len;
          s->naddr[nh] = s->raddr[i];
          s->nalen[nh] = h->msg_namelen;
          nh++;
          s->replayed++;
          if (shaped && (e->tflags & TMPL_BY_LEN) && len != e->rlen) count_len_cell(s, e->cell, len);
          else count_cell(s, e->cell);
          continue;
        }
      }
      /* Compact so JS sees only datagrams it may answer; the slot index moves with it. */
      if (kept != i) {
        memcpy(s->recv + (size_t)kept * STRIDE, s->recv + (size_t)i * STRIDE, s->rmsgs[i].msg_len);
        s->raddr[kept] = s->raddr[i];
        s->rmsgs[kept].msg_hdr.msg_namelen = h->msg_namelen;
      }
      m[0] = (int32_t)s->rmsgs[i].msg_len;
      uint8_t *a = (uint8_t *)(m + 4);
      if (s->raddr[kept].ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&s->raddr[kept];
        m[1] = ntohs(a6->sin6_port);
        m[2] = 6;
        memcpy(a, &a6->sin6_addr, 16);
      } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&s->raddr[kept];
        m[1] = ntohs(a4->sin_port);
        m[2] = 4;
        memcpy(a, &a4->sin_addr, 4);
        memset(a + 4, 0, 12);
      }
      m[3] = 0;
      kept++;
    }
    for (int i = 0; promote > 0 && i < r; i++) {
      const mirror_probe *pr = &s->probes[i];
      if (!pr->promote) continue;
      promote--;
      mirror_entry *e = mirror_insert(s, pr->key, pr->klen, pr->hash, sizeof(mirror_entry) + (size_t)pr->klen + (size_t)pr->plen);
      if (e == NULL) continue;
      e->rlen = (uint16_t)pr->plen;
      e->qend = (uint16_t)pr->qend;
      e->cell = pr->pcell;
      e->rrl_a = pr->prrl_a;
      e->rrl_b = pr->prrl_b;
      e->rrl_rate = pr->prrl_rate;
      memcpy(e->data + pr->klen, s->nsend + pr->pout, (size_t)pr->plen);
    }
    s->received += kept + nh;
    if (kept > 0) call_js(s, kept, nh);
    else if (nh > 0) {
      native_msgs(s, nh);
      send_batch(s, nh);
    }
    if (r < s->batch) return; /* the queue is empty: wait for the next readiness event */
  }
}

static void free_sock(batch_sock *s) {
  mirror_clear(s);
  free(s->seen);
  if (s->slots != NULL) munmap(s->slots, HUGE_PAGE);
  if (s->arena != NULL) munmap(s->arena, MIRROR_ARENA);
  free(s->nsend);
  free(s->probes);
  free(s->naddr);
  free(s->nalen);
  free(s->cell_hits);
  free(s->len_keys);
  free(s->len_hits);
  free(s->rmsgs);
  free(s->riov);
  free(s->raddr);
  free(s->smsgs);
  free(s->siov);
  free(s);
}

static void on_closed(uv_handle_t *handle) {
  batch_sock *s = handle->data;
  napi_env env = s->env;
  napi_delete_reference(env, s->callback);
  napi_delete_reference(env, s->recv_ab);
  if (s->next_ab) napi_delete_reference(env, s->next_ab);
  rrl_release(env, &s->rrl);
  enc_release(env, &s->enc);
  napi_delete_reference(env, s->self);
  napi_async_destroy(env, s->async);
  free_sock(s);
}

static batch_sock *unwrap(napi_env env, napi_value v) {
  batch_sock *s = NULL;
  if (napi_unwrap(env, v, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, NULL, "fluxdns_udp: not an open socket handle");
    return NULL;
  }
  return s;
}

static napi_value ab_of(napi_env env, void **data, size_t size) {
  napi_value ab;
  if (napi_create_arraybuffer(env, size, data, &ab) != napi_ok) return NULL;
  return ab;
}

/* open(host, port, batchSize, reusePort, onBatch) -> { handle, port, recvMeta, sendMeta, send, slot, sendSlot } */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "open(host, port, batchSize, reusePort, onBatch[, owner])");
    return NULL;
  }
  char host[64];
  size_t hl;
  int32_t port, batch;
  bool reuse;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl));
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_int32(env, argv[2], &batch));
  CHECK(napi_get_value_bool(env, argv[3], &reuse));
  if (batch < 1 || batch > MAX_BATCH || port < 0 || port > 65535) {
    napi_throw_range_error(env, NULL, "fluxdns_udp: batchSize 1..1024, port 0..65535");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sl;
  int family = fill_addr(host, port, &ss, &sl);
  if (family < 0) {
    napi_throw_type_error(env, NULL, "fluxdns_udp: expected a literal IPv4 or IPv6 address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  /*
   * owner (optional uid): the socket is made that user's before it binds. SO_REUSEPORT groups only
   * sockets of one owner (the socket's uid), so a worker that starts as root and drops to `user:` must
   * bind its socket as that user's for a worker started later, already that user, to join the group.
   */
  int32_t owner = -1;
  if (argc >= 6) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[5], &t));
    if (t == napi_number) CHECK(napi_get_value_int32(env, argv[5], &owner));
  }
  if (owner >= 0 && fchown(fd, (uid_t)owner, (gid_t)-1) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "fchown (socket owner)", e);
  }
  int one = 1;
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  /* Each worker binds its own socket; the kernel spreads datagrams over them by flow hash. */
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "setsockopt SO_REUSEPORT", e);
  }
  int rcv = 1 << 20; /* clamped to net.core.rmem_max; absorbs bursts between two loop turns */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  /*
   * IPv4 replies go out with DF set (RFC 9715 §3.1 recommends it) and the path MTU the kernel may learn
   * from ICMP "fragmentation needed" ignored (PROBE: the interface MTU is the limit), so a forged ICMP
   * cannot make replies fragment — Knot, NSD and named use IP_PMTUDISC_OMIT for that, which sends DF=0.
   * DF also spares the kernel the per-destination IP ID (a DF packet's is 0; __ip_select_ident was in
   * every reply's send path). A reply larger than the interface MTU fails with EMSGSIZE and goes out
   * truncated instead (send_batch).
   */
  if (family == AF_INET) {
    int probe = IP_PMTUDISC_PROBE;
    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof probe);
  } else {
    /* IPv6 has no DF, but the same mode keeps the kernel from fragmenting at the source to a path MTU a
     * forged ICMPv6 Packet Too Big taught it (RFC 9715 §3.1: no Fragment header on replies). */
    int probe = IPV6_PMTUDISC_PROBE;
    setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe, sizeof probe);
  }
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    char what[128];
    snprintf(what, sizeof what, "bind %s%s%s:%d", family == AF_INET6 ? "[" : "", host, family == AF_INET6 ? "]" : "", port);
    return throw_errno(env, what, e);
  }
  struct sockaddr_storage bound;
  socklen_t bl = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bl);
  int bound_port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);

  batch_sock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    napi_throw_error(env, NULL, "fluxdns_udp: out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->family = family;
  s->clock_fixed = -1;
  s->batch = batch;
  s->rmsgs = calloc((size_t)batch, sizeof *s->rmsgs);
  s->riov = calloc((size_t)batch, sizeof *s->riov);
  s->raddr = calloc((size_t)batch, sizeof *s->raddr);
  s->smsgs = calloc((size_t)batch, sizeof *s->smsgs);
  s->siov = calloc((size_t)batch, sizeof *s->siov);
  napi_value recv_ab, recv_meta, send_meta, send_ab, obj, v;
  void *data;
  s->nsend = malloc((size_t)batch * SEND_SLOT);
  s->probes = malloc((size_t)batch * sizeof *s->probes);
  s->naddr = calloc((size_t)batch, sizeof *s->naddr);
  s->nalen = calloc((size_t)batch, sizeof *s->nalen);
  if (!s->nsend || !s->probes || !s->naddr || !s->nalen || !s->rmsgs || !s->riov || !s->raddr || !s->smsgs || !s->siov || !(recv_ab = ab_of(env, &data, (size_t)batch * STRIDE))) goto fail;
  s->recv = data;
  if (!(recv_meta = ab_of(env, &data, (size_t)batch * RECV_STRIDE * 4))) goto fail;
  s->recv_meta = data;
  if (!(send_meta = ab_of(env, &data, (size_t)batch * SEND_STRIDE * 4))) goto fail;
  s->send_meta = data;
  if (!(send_ab = ab_of(env, &data, (size_t)batch * SEND_SLOT))) goto fail;
  s->send = data;
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, fd) != 0) goto fail;
  s->poll.data = s;
  napi_create_object(env, &obj);
  napi_value res_name;
  napi_create_string_utf8(env, "fluxdns:udp-batch", NAPI_AUTO_LENGTH, &res_name);
  napi_async_init(env, obj, res_name, &s->async);
  napi_wrap(env, obj, s, NULL, NULL, NULL);
  napi_create_reference(env, argv[4], 1, &s->callback);
  napi_create_reference(env, recv_ab, 1, &s->recv_ab);
  napi_create_reference(env, obj, 1, &s->self);
  uv_poll_start(&s->poll, UV_READABLE, on_readable);

  napi_set_named_property(env, obj, "recv", recv_ab);
  napi_set_named_property(env, obj, "recvMeta", recv_meta);
  napi_set_named_property(env, obj, "sendMeta", send_meta);
  napi_set_named_property(env, obj, "send", send_ab);
  napi_create_int32(env, bound_port, &v);
  napi_set_named_property(env, obj, "port", v);
  napi_create_int32(env, STRIDE, &v);
  napi_set_named_property(env, obj, "slot", v);
  napi_create_int32(env, SEND_SLOT, &v);
  napi_set_named_property(env, obj, "sendSlot", v);
  napi_create_int32(env, SEND_STRIDE, &v);
  napi_set_named_property(env, obj, "sendStride", v);
  return obj;
fail:
  close(fd);
  free_sock(s);
  napi_throw_error(env, NULL, "fluxdns_udp: cannot allocate the batch buffers");
  return NULL;
}

/* sendTo(handle, bytes, host, port): one reply outside a batch (a unit answered asynchronously). */
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  void *data;
  size_t len;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  CHECK(napi_get_typedarray_info(env, argv[1], &t, &len, &data, &ab, &off));
  char host[64];
  size_t hl;
  int32_t port;
  CHECK(napi_get_value_string_utf8(env, argv[2], host, sizeof host, &hl));
  CHECK(napi_get_value_int32(env, argv[3], &port));
  struct sockaddr_storage ss;
  socklen_t sl = 0;
  int ok = 0;
  if (!s->closing && fill_addr(host, port, &ss, &sl) == s->family) {
    ssize_t r;
    do r = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EMSGSIZE) {
      /* As in send_batch: a copy of header, question and OPT with TC (JS's bytes are left as they are). */
      uint8_t cut[1232];
      size_t c = truncate_to_tc(data, len, cut, sizeof cut);
      if (c > 0) {
        do r = sendto(s->fd, cut, c, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
        while (r < 0 && errno == EINTR);
        if (r >= 0) s->truncated_replies++;
      }
    }
    ok = r >= 0;
    if (ok) s->sent++;
    else s->send_errors++;
  }
  napi_get_boolean(env, ok, &out);
  return out;
}

/* detach(handle[, next]): the current receive buffer stays with JS; the next batch is read into `next`
 * (an ArrayBuffer of at least batch * STRIDE bytes JS no longer uses) or, without one, into a new buffer. */
static napi_value js_detach(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  s->detach_pending = 1;
  bool is_ab = false;
  if (argc >= 2 && napi_is_arraybuffer(env, argv[1], &is_ab) == napi_ok && is_ab) {
    if (s->next_ab) napi_delete_reference(env, s->next_ab);
    s->next_ab = NULL;
    napi_create_reference(env, argv[1], 1, &s->next_ab);
  }
  return NULL;
}

/* mirror(handle, on): empties the replay mirror; `on` says whether it keeps and serves replies from now on. */
static napi_value js_mirror(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  bool on = false;
  if (argc >= 2) napi_get_value_bool(env, argv[1], &on);
  mirror_clear(s);
  s->mirror_on = on;
  return NULL;
}

/* Lets go of the shared rrl table: replays are no longer checked (nor served while mirror_on: see rrl). */
static void rrl_release(napi_env env, rrl_share *r) {
  for (int i = 0; i < RRL_COLUMNS; i++) {
    if (r->refs[i]) napi_delete_reference(env, r->refs[i]);
    r->refs[i] = NULL;
  }
  free(r->exempt);
  memset(r, 0, sizeof *r);
}

/* The data of typed array `name` of obj, of `type` and at least `min` elements; a reference is kept in *ref. */
static void *rrl_column(napi_env env, napi_value obj, const char *name, napi_typedarray_type type, size_t *length, napi_ref *ref) {
  napi_value v, ab;
  napi_typedarray_type t;
  size_t off;
  void *data;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return NULL;
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return NULL;
  if (napi_get_typedarray_info(env, v, &t, length, &data, &ab, &off) != napi_ok || t != type) return NULL;
  if (napi_create_reference(env, v, 1, ref) != napi_ok) return NULL;
  return data;
}

static int rrl_int(napi_env env, napi_value obj, const char *name, int64_t lo, int64_t hi, int64_t *out) {
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_get_value_int64(env, v, out) != napi_ok) return 0;
  return *out >= lo && *out <= hi;
}

/*
 * rrl(handle, limit | undefined): replays are checked against rrl's shared bucket table from now on
 * (limit: { keyA, keyB, balance, at, limited, place, ok, seedA, seedB, ipv4Prefix, ipv6Prefix, exempt },
 * src/transport/udp-native.ts NativeRrl), or not at all. Called again with new columns when the table grows.
 * A malformed limit throws and leaves replays off, as the mirror's entries cannot be checked without it.
 */
static napi_value js_rrl(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  rrl_release(env, &s->rrl);
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (t != napi_object) {
    /* Entries kept under rrl must not go out unchecked once it is gone. */
    mirror_clear(s);
    return NULL;
  }
  napi_value o = argv[1];
  rrl_share r;
  memset(&r, 0, sizeof r);
  size_t na, nb, nbal, nat, nlim, nplace, nok, nex = 0;
  int64_t sa, sb, v4, v6;
  r.key_a = rrl_column(env, o, "keyA", napi_int32_array, &na, &r.refs[0]);
  r.key_b = rrl_column(env, o, "keyB", napi_int32_array, &nb, &r.refs[1]);
  r.balance = rrl_column(env, o, "balance", napi_float64_array, &nbal, &r.refs[2]);
  r.at = rrl_column(env, o, "at", napi_float64_array, &nat, &r.refs[3]);
  r.limited = rrl_column(env, o, "limited", napi_int32_array, &nlim, &r.refs[4]);
  r.place = rrl_column(env, o, "place", napi_int32_array, &nplace, &r.refs[5]);
  r.ok = rrl_column(env, o, "ok", napi_float64_array, &nok, &r.refs[6]);
  napi_value ex;
  void *exd = NULL;
  napi_typedarray_type ext;
  napi_value exab;
  size_t exoff;
  int ok = r.key_a && r.key_b && r.balance && r.at && r.limited && r.place && r.ok && nok >= 1 && na > 0 && (na & (na - 1)) == 0 &&
           nb == na && nbal == na && nat == na && nlim == na && nplace == na &&
           rrl_int(env, o, "seedA", 0, UINT32_MAX, &sa) && rrl_int(env, o, "seedB", 0, UINT32_MAX, &sb) &&
           rrl_int(env, o, "ipv4Prefix", 0, 32, &v4) && rrl_int(env, o, "ipv6Prefix", 0, 128, &v6) &&
           napi_get_named_property(env, o, "exempt", &ex) == napi_ok &&
           napi_get_typedarray_info(env, ex, &ext, &nex, &exd, &exab, &exoff) == napi_ok && ext == napi_uint8_array &&
           nex % RRL_EXEMPT_BYTES == 0;
  if (ok && nex > 0) {
    r.exempt = malloc(nex);
    if (r.exempt == NULL) ok = 0;
    else memcpy(r.exempt, exd, nex);
  }
  if (!ok) {
    rrl_release(env, &r);
    /* Entries of a chain with rrl must not go out unchecked: the mirror stops until JS sets it again. */
    mirror_clear(s);
    s->mirror_on = 0;
    napi_throw_type_error(env, NULL, "fluxdns_udp: rrl(handle, limit): malformed limit");
    return NULL;
  }
  r.on = 1;
  r.mask = (uint32_t)(na - 1);
  r.seed_a = (uint32_t)sa;
  r.seed_b = (uint32_t)sb;
  r.v4len = (int)v4;
  r.v6len = (int)v6;
  r.nexempt = (int)(nex / RRL_EXEMPT_BYTES);
  s->rrl = r;
  return NULL;
}

/* Lets go of the registered zones' arrays: no encloser replay until JS registers zones again. */
static void enc_release(napi_env env, enc_set *e) {
  for (int z = 0; z < e->n; z++) {
    for (int i = 0; i < ENC_ARRAYS; i++)
      if (e->zones[z].refs[i]) napi_delete_reference(env, e->zones[z].refs[i]);
    n3_release(env, &e->zones[z].n3);
  }
  free(e->zones);
  memset(e, 0, sizeof *e);
}

/* Zone z of the array `zones` into *out (apex lower-cased and hashed, the arrays referenced); 0 when malformed. */
static int enc_zone_of(napi_env env, napi_value zones, uint32_t z, enc_zone *out) {
  napi_value o, v, ab;
  napi_typedarray_type t;
  size_t nidx, nhash, nname, nflags, off, alen;
  void *apex;
  if (napi_get_element(env, zones, z, &o) != napi_ok) return 0;
  out->index = rrl_column(env, o, "index", napi_int32_array, &nidx, &out->refs[0]);
  out->node_hash = rrl_column(env, o, "nodeHash", napi_uint32_array, &nhash, &out->refs[1]);
  out->node_name = rrl_column(env, o, "nodeName", napi_int32_array, &nname, &out->refs[2]);
  out->names = rrl_column(env, o, "names", napi_uint8_array, &out->names_len, &out->refs[3]);
  out->node_flags = rrl_column(env, o, "nodeFlags", napi_uint8_array, &nflags, &out->refs[4]);
  bool is = false;
  if (!out->index || !out->node_hash || !out->node_name || !out->names || !out->node_flags || nidx == 0 || (nidx & (nidx - 1)) != 0 ||
      nhash > UINT32_MAX || nname < nhash || nflags < nhash || napi_get_named_property(env, o, "apex", &v) != napi_ok ||
      napi_is_typedarray(env, v, &is) != napi_ok || !is || napi_get_typedarray_info(env, v, &t, &alen, &apex, &ab, &off) != napi_ok ||
      t != napi_uint8_array || alen < 1 || alen > 255)
    return 0;
  out->mask = (uint32_t)nidx - 1;
  out->nodes = (uint32_t)nhash;
  const uint8_t *a = apex;
  size_t p = 0;
  while (p < alen && a[p] != 0 && a[p] <= 63) p += (size_t)a[p] + 1;
  if (p + 1 != alen || a[p] != 0) return 0; /* a wire name, its root label last */
  for (size_t i = 0; i < alen; i++) out->apex[i] = lower8(a[i]);
  out->apex_len = (int)alen;
  uint32_t offs[128], h = FNV_SEED;
  int labels = 0;
  for (p = 0; out->apex[p] != 0; p += out->apex[p] + 1u) offs[labels++] = (uint32_t)p;
  while (labels > 0) h = hash_label(h, out->apex + offs[--labels]);
  out->apex_hash = h;
  /* A signed NSEC3 zone's chain (optional `nsec3`, src/dnssec/serve/nsec3-replay.ts); malformed: the zone is. */
  if (!n3_zone_of(env, o, &out->n3)) return 0;
  return 1;
}

/*
 * enclosers(handle, zones | undefined): the compiled zones JS answers names below their apex from (at most
 * 255: { apex, index, nodeHash, nodeName, names, nodeFlags }, src/transport/udp-native.ts EncloserZone), held
 * by references; undefined turns encloser replay off. Each call replaces the set and empties the mirror,
 * templates included. A malformed set throws and leaves encloser replay off.
 */
static napi_value js_enclosers(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  enc_release(env, &s->enc);
  /* Templates placed under the old zones' nodes mean nothing under the new ones. */
  mirror_clear(s);
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (t == napi_undefined || t == napi_null) return NULL;
  bool is = false;
  uint32_t n = 0;
  if (napi_is_array(env, argv[1], &is) != napi_ok || !is || napi_get_array_length(env, argv[1], &n) != napi_ok || n > ENC_MAX_ZONES) {
    napi_throw_type_error(env, NULL, "fluxdns_udp: enclosers(handle, zones): an array of at most 255 zones");
    return NULL;
  }
  enc_set set;
  memset(&set, 0, sizeof set);
  set.zones = calloc(n ? n : 1, sizeof *set.zones);
  if (set.zones == NULL) {
    napi_throw_error(env, NULL, "fluxdns_udp: out of memory");
    return NULL;
  }
  for (uint32_t z = 0; z < n; z++) {
    int ok = enc_zone_of(env, argv[1], z, &set.zones[z]);
    set.n = (int)z + 1; /* its references are released with the set */
    if (!ok) {
      enc_release(env, &set);
      char msg[256];
      snprintf(msg, sizeof msg, "fluxdns_udp: enclosers(handle, zones): zone %u is malformed (apex a wire name; index, nodeHash, nodeName, names, nodeFlags typed arrays of a compiled zone)", z);
      napi_throw_type_error(env, NULL, msg);
      return NULL;
    }
    const enc_zone *c = &set.zones[z];
    uint32_t k = c->apex_hash & (ENC_APEX_SLOTS - 1);
    int dup = 0;
    for (; set.apex_slot[k] != 0; k = (k + 1) & (ENC_APEX_SLOTS - 1)) {
      const enc_zone *o = &set.zones[set.apex_slot[k] - 1];
      dup |= o->apex_len == c->apex_len && memcmp(o->apex, c->apex, (size_t)c->apex_len) == 0;
    }
    if (!dup) set.apex_slot[k] = (uint8_t)(z + 1); /* the first zone of an apex answers for it */
  }
  /* The server's UDP payload limit: a template with an NSEC3 hole may grow up to what the engine would send in full. */
  uint32_t payload = 0;
  if (argc >= 3 && napi_get_value_uint32(env, argv[2], &payload) == napi_ok && payload >= 512 && payload <= SEND_SLOT) set.udp_payload = (int)payload;
  s->enc = set;
  return NULL;
}

/*
 * encloserProbe(handle, nameWire) -> [zone slot, E node, next-closer label offset] | null: the descent
 * encloser replay makes for a name (a test hook: src/transport/udp-encloser.test.ts).
 */
static napi_value js_encloser_probe(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  napi_typedarray_type t;
  size_t len = 0, off;
  void *data;
  napi_value ab;
  uint8_t name[256];
  if (argc < 2 || napi_get_typedarray_info(env, argv[1], &t, &len, &data, &ab, &off) != napi_ok || t != napi_uint8_array || len < 1 || len > 255) {
    napi_throw_type_error(env, NULL, "fluxdns_udp: encloserProbe(handle, nameWire)");
    return NULL;
  }
  const uint8_t *w = data;
  size_t p = 0;
  while (p < len && w[p] != 0 && w[p] <= 63) p += (size_t)w[p] + 1;
  if (p + 1 != len || w[p] != 0) {
    napi_throw_type_error(env, NULL, "fluxdns_udp: encloserProbe: not a wire name");
    return NULL;
  }
  for (size_t i = 0; i < len; i++) name[i] = lower8(w[i]);
  enc_place pl;
  if (!enc_descend(&s->enc, name, &pl)) {
    napi_get_null(env, &out);
    return out;
  }
  CHECK(napi_create_array_with_length(env, 3, &out));
  napi_create_int32(env, pl.zone, &v);
  napi_set_element(env, out, 0, v);
  napi_create_int32(env, pl.node, &v);
  napi_set_element(env, out, 1, v);
  napi_create_int32(env, pl.n_off, &v);
  napi_set_element(env, out, 2, v);
  return out;
}

/*
 * templateClock(handle, ms): the clock template reopening reads (TMPL_REOPEN_MS) fixed at ms, or back to
 * CLOCK_MONOTONIC for ms < 0 (a test hook: src/transport/udp-encloser.test.ts fills the cap and reopens it
 * without racing the real clock).
 */
static napi_value js_template_clock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  int64_t ms;
  if (argc < 2 || napi_get_value_int64(env, argv[1], &ms) != napi_ok) {
    napi_throw_type_error(env, NULL, "fluxdns_udp: templateClock(handle, ms)");
    return NULL;
  }
  s->clock_fixed = ms < 0 ? -1 : ms;
  return NULL;
}

/*
 * takeReplays(handle) -> Float64Array [uncelled, cell, hits, cell, hits, ...]: the replies the mirror sent
 * since the last call, per metrics cell (those without one first); the counts start again from zero. A
 * replay counted by length (W7_BY_LEN) comes as the pair -1 - (cell * 8192 + length), hits: the cell of
 * that cell's type, rcode and zone at that length (src/answer/replay.ts drainSource).
 */
static napi_value js_take_replays(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], ab, out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  int n = 0;
  for (int i = 0; i < s->cell_cap; i++) n += s->cell_hits[i] != 0;
  for (int i = 0; s->len_keys != NULL && i < LEN_CELL_SLOTS; i++) n += s->len_keys[i] != 0 && s->len_hits[i] != 0;
  void *data;
  CHECK(napi_create_arraybuffer(env, (size_t)(1 + 2 * n) * sizeof(double), &data, &ab));
  double *d = data;
  d[0] = s->replayed_uncelled;
  s->replayed_uncelled = 0;
  int k = 1;
  for (int i = 0; i < s->cell_cap; i++) {
    if (s->cell_hits[i] == 0) continue;
    d[k++] = i;
    d[k++] = s->cell_hits[i];
    s->cell_hits[i] = 0;
  }
  for (int i = 0; s->len_keys != NULL && i < LEN_CELL_SLOTS; i++) {
    if (s->len_keys[i] != 0 && s->len_hits[i] != 0) {
      d[k++] = -1.0 - (double)(s->len_keys[i] - 1);
      d[k++] = s->len_hits[i];
    }
    s->len_keys[i] = 0;
    s->len_hits[i] = 0;
  }
  s->len_used = 0;
  CHECK(napi_create_typedarray(env, napi_float64_array, (size_t)(1 + 2 * n), ab, 0, &out));
  return out;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], obj, v;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  napi_create_object(env, &obj);
#define STAT(name)                                \
  napi_create_double(env, s->name, &v);           \
  napi_set_named_property(env, obj, #name, v);
  STAT(received) STAT(sent) STAT(send_errors) STAT(truncated) STAT(recv_calls) STAT(send_calls) STAT(replayed)
  STAT(truncated_replies) STAT(shaped) STAT(tmpl_reopens) STAT(tmpl_count)
#undef STAT
  /* The socket's IP_MTU_DISCOVER (IPV6_MTU_DISCOVER for IPv6), read back so tests see what open set. */
  int pmtu = -1;
  socklen_t pl = sizeof pmtu;
  if (s->family == AF_INET ? getsockopt(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, &pl) != 0
                           : getsockopt(s->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, &pl) != 0)
    pmtu = -1;
  napi_create_int32(env, pmtu, &v);
  napi_set_named_property(env, obj, "mtu_discover", v);
  return obj;
}

/* close(handle): stops polling and closes the socket once libuv has let go of it. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  batch_sock *s = unwrap(env, argv[0]);
  if (!s || s->closing) return NULL;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
  void *unused;
  napi_remove_wrap(env, argv[0], &unused);
  uv_close((uv_handle_t *)&s->poll, on_closed);
  return NULL;
}

/*
 * raiseNofile(): raises the soft RLIMIT_NOFILE to the hard limit (Node has no setrlimit) and returns
 * [soft, hard] after the attempt; -1 for RLIM_INFINITY. Used by src/server/fd-budget.ts.
 */
static napi_value js_raise_nofile(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    struct rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  napi_value arr, soft, hard;
  CHECK(napi_create_array_with_length(env, 2, &arr));
  CHECK(napi_create_double(env, rl.rlim_cur == RLIM_INFINITY ? -1.0 : (double)rl.rlim_cur, &soft));
  CHECK(napi_create_double(env, rl.rlim_max == RLIM_INFINITY ? -1.0 : (double)rl.rlim_max, &hard));
  CHECK(napi_set_element(env, arr, 0, soft));
  CHECK(napi_set_element(env, arr, 1, hard));
  return arr;
}

/* mallocTrim() -> boolean: glibc's malloc_trim(0), giving free heap pages back to the kernel (issue 16:
 * after a connection flood, the memory OpenSSL and nghttp2 freed stays in malloc's arenas otherwise). */
static napi_value js_malloc_trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
#ifdef __GLIBC__
  CHECK(napi_get_boolean(env, malloc_trim(0) == 1, &out));
#else
  CHECK(napi_get_boolean(env, false, &out));
#endif
  return out;
}

/*
 * sdNotify(path, message) -> true: sends `message` as one datagram to the unix socket at `path`
 * ($NOTIFY_SOCKET; a leading '@' is the abstract namespace), from this process itself. systemd takes the
 * sender's PID from the datagram's credentials and reads its cgroup: `systemd-notify` as a child
 * could exit before systemd 252 read them and the message was dropped (sd_notify(3), NotifyAccess=).
 * Throws with errno on failure.
 */
static napi_value js_sd_notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  char msg[4096];
  size_t plen = 0, mlen = 0;
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], msg, sizeof msg, &mlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "sdNotify(path, message)");
    return NULL;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (plen == 0 || plen >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@')) {
    napi_throw_range_error(env, NULL, "sdNotify: NOTIFY_SOCKET is not an absolute path or an @abstract name");
    return NULL;
  }
  memcpy(sa.sun_path, path, plen);
  if (path[0] == '@') sa.sun_path[0] = 0;
  socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '@' ? 0 : 1));
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  ssize_t n = sendto(fd, msg, mlen, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
  int err = errno;
  close(fd);
  if (n < 0) return throw_errno(env, "sendto", err);
  napi_value out;
  CHECK(napi_get_boolean(env, true, &out));
  return out;
}

/* The calling thread's capability sets: all three (effective, permitted, inheritable) to `mask`. */
static int set_caps(uint32_t mask) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
  memset(d, 0, sizeof d);
  d[0].effective = d[0].permitted = d[0].inheritable = mask;
  return (int)syscall(SYS_capset, &h, d);
}

/*
 * becomeKeepingBind(uid, gid): root becomes uid/gid (setgroups, setgid, setuid) but keeps
 * CAP_NET_BIND_SERVICE, effective and ambient, so the processes it forks later (a worker started again
 * after one died) can still bind ports below 1024 and nothing else. PR_SET_KEEPCAPS keeps the permitted
 * set across setuid; the ambient set carries the capability over execve to a non-root child
 * (capabilities(7)). Throws with errno; on failure the process may be half-switched: the caller exits.
 */
static napi_value js_become_keeping_bind(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t uid = -1, gid = -1;
  if (argc < 2 || napi_get_value_int64(env, argv[0], &uid) != napi_ok || napi_get_value_int64(env, argv[1], &gid) != napi_ok || uid < 0 || gid < 0) {
    napi_throw_type_error(env, NULL, "becomeKeepingBind(uid, gid)");
    return NULL;
  }
  gid_t g = (gid_t)gid;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return throw_errno(env, "prctl(PR_SET_KEEPCAPS)", errno);
  if (setgroups(1, &g) != 0) return throw_errno(env, "setgroups", errno);
  if (setgid(g) != 0) return throw_errno(env, "setgid", errno);
  if (setuid((uid_t)uid) != 0) return throw_errno(env, "setuid", errno);
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  if (set_caps(1u << CAP_NET_BIND_SERVICE) != 0) return throw_errno(env, "capset", errno);
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) != 0) return throw_errno(env, "prctl(PR_CAP_AMBIENT_RAISE)", errno);
  napi_value out;
  CHECK(napi_get_boolean(env, true, &out));
  return out;
}

/*
 * Capabilities are per thread, and capset(2) changes only the calling thread's: a worker started with
 * the ambient CAP_NET_BIND_SERVICE has it in every thread Node made before JavaScript ran (libuv's pool,
 * V8's platform workers), and clearing the JS thread alone left them holding it. glibc's setuid()
 * reaches every thread by a signal (setxid); capset has no such broadcast, so this does the same: a
 * real-time signal no one else handles, sent to each other thread, whose handler clears that thread's
 * sets (prctl and capset are plain system calls, safe in a handler). /proc/self/task/N/status is then read back.
 */
static atomic_int caps_handled;
static int caps_signal;

static int clear_own_caps(void) {
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  return set_caps(0);
}

static void on_caps_signal(int sig) {
  (void)sig;
  int saved = errno;
  clear_own_caps();
  atomic_fetch_add(&caps_handled, 1);
  errno = saved;
}

/* The signal for the broadcast: the first real-time one (past glibc's own) with no handler. Kept installed. */
static int caps_broadcast_signal(void) {
  if (caps_signal > 0) return caps_signal;
  for (int s = SIGRTMIN + 4; s <= SIGRTMAX - 2; s++) {
    struct sigaction old;
    if (sigaction(s, NULL, &old) != 0 || old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_caps_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(s, &sa, NULL) == 0) return caps_signal = s;
  }
  return -1;
}

/* 1 when thread `tid` of this process holds a capability (permitted, effective, inheritable or ambient), 0 when none, -1 when gone. */
static int thread_holds_caps(const char *tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  char line[256];
  int holds = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long long v = 0;
    if ((sscanf(line, "CapInh: %llx", &v) == 1 || sscanf(line, "CapPrm: %llx", &v) == 1 ||
         sscanf(line, "CapEff: %llx", &v) == 1 || sscanf(line, "CapAmb: %llx", &v) == 1) && v != 0)
      holds = 1;
  }
  fclose(f);
  return holds;
}

/* Signals every other thread that holds a capability; returns how many were signalled, or -1 (errno) when the task list is unreadable. */
static int signal_holders(int sig, int *holders) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL) return -1;
  pid_t pid = getpid();
  long self = (long)syscall(SYS_gettid);
  int sent = 0;
  *holders = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    long tid = strtol(e->d_name, NULL, 10);
    if (thread_holds_caps(e->d_name) != 1) continue;
    (*holders)++;
    if (tid == self) continue;
    if (sig > 0 && syscall(SYS_tgkill, pid, tid, sig) == 0) sent++;
  }
  closedir(d);
  return sent;
}

/*
 * clearCapabilities() -> number: empties the ambient, effective, permitted and inheritable sets of every
 * thread of the process; returns how many threads still hold one afterwards (0: done). Throws with errno
 * when the calling thread's own sets cannot be cleared.
 */
static napi_value js_clear_capabilities(napi_env env, napi_callback_info info) {
  (void)info;
  if (clear_own_caps() != 0) return throw_errno(env, "capset", errno);
  int sig = caps_broadcast_signal();
  int holders = 0;
  // A thread started while the signals went out, or one that had the signal blocked: a few rounds, ~1 s in all.
  for (int round = 0; round < 4; round++) {
    int before = atomic_load(&caps_handled);
    int sent = signal_holders(sig, &holders);
    if (sent <= 0) break;
    struct timespec ms = {0, 1000000};
    for (int waited = 0; waited < 250 && atomic_load(&caps_handled) - before < sent; waited++) nanosleep(&ms, NULL);
  }
  signal_holders(0, &holders);
  napi_value out;
  CHECK(napi_create_int32(env, holders, &out));
  return out;
}

/*
 * adviseHugePages(arrayBuffer) -> boolean: madvise(MADV_HUGEPAGE) on the whole 2 MiB pages inside the
 * buffer, before anything is written to it (src/zone/huge-pages.ts). On this kind of machine (a
 * paravirtualised VM) each first write to a 4 KiB page costs ~17 us of trap and page-table work: the
 * ~135 MiB a million-record zone's columns touch were ~34,000 faults, ~0.6 s of its load. With THP in
 * "madvise" mode (Debian's default) the same bytes fault in 2 MiB at a time. False when nothing was
 * advised (a buffer under 2 MiB, no THP, not Linux); the buffer is unchanged either way.
 */
static napi_value js_advise_huge_pages(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  void *data = NULL;
  size_t len = 0;
  bool done = false;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc == 1 && napi_get_arraybuffer_info(env, argv[0], &data, &len) == napi_ok && data != NULL) {
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t start = ((uintptr_t)data + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)data + len) & ~(huge - 1);
    if (end > start) done = madvise((void *)start, end - start, MADV_HUGEPAGE) == 0;
#endif
  }
  CHECK(napi_get_boolean(env, done, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_default, NULL},
      {"detach", NULL, js_detach, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"mirror", NULL, js_mirror, NULL, NULL, NULL, napi_default, NULL},
      {"takeReplays", NULL, js_take_replays, NULL, NULL, NULL, napi_default, NULL},
      {"rrl", NULL, js_rrl, NULL, NULL, NULL, napi_default, NULL},
      {"enclosers", NULL, js_enclosers, NULL, NULL, NULL, napi_default, NULL},
      {"encloserProbe", NULL, js_encloser_probe, NULL, NULL, NULL, napi_default, NULL},
      {"templateClock", NULL, js_template_clock, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"raiseNofile", NULL, js_raise_nofile, NULL, NULL, NULL, napi_default, NULL},
      {"mallocTrim", NULL, js_malloc_trim, NULL, NULL, NULL, napi_default, NULL},
      {"adviseHugePages", NULL, js_advise_huge_pages, NULL, NULL, NULL, napi_default, NULL},
      {"sdNotify", NULL, js_sd_notify, NULL, NULL, NULL, napi_default, NULL},
      {"becomeKeepingBind", NULL, js_become_keeping_bind, NULL, NULL, NULL, napi_default, NULL},
      {"clearCapabilities", NULL, js_clear_capabilities, NULL, NULL, NULL, napi_default, NULL},
      {"nsec3Hash", NULL, nsec3_js_hash, NULL, NULL, NULL, napi_default, NULL},
      {"nsec3Cover", NULL, nsec3_js_cover, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
