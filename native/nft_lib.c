// fluxdns_nft: nftables transactions through libnftables in this process, off the event loop.
//
// `nft -i` spends about 2.5 ms of CPU per command on this machine (libedit reads its input one byte
// at a time and echoes it), where libnftables itself needs under 0.1 ms for an `add element`; a
// fresh `nft` process costs more still. This addon loads libnftables.so.1 with dlopen (no headers or
// link-time dependency: the build never fails for want of libnftables), opens one context — in a
// named network namespace when asked, by switching the calling thread there while the context's
// netlink socket is created — and runs each batch of commands as one transaction on libuv's thread
// pool, so the event loop keeps serving queries while the kernel commits.
//
// It also has a raw netlink path for the grant's hot path (nlOpen/nlRun): one NETLINK_NETFILTER
// socket per handle, opened in the namespace the same way, and batches of NFT_MSG_NEWSETELEM /
// DELSETELEM messages encoded by the caller (src/capability/nftables/netlink.ts) sent with one
// sendmsg and confirmed by one acknowledgement per message (NLM_F_ACK). libnftables refreshes its
// cache of every table and set before each command once the ruleset generation changed (≈ 10 dump
// round trips per grant); the raw path needs none of that, because the caller knows the set types.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <node_api.h>

struct nft_ctx;
typedef struct nft_ctx *(*ctx_new_fn)(unsigned int);
typedef void (*ctx_free_fn)(struct nft_ctx *);
typedef int (*run_fn)(struct nft_ctx *, const char *);
typedef int (*buffer_fn)(struct nft_ctx *);
typedef const char *(*get_buffer_fn)(struct nft_ctx *);
typedef unsigned int (*get_flags_fn)(struct nft_ctx *);
typedef void (*set_flags_fn)(struct nft_ctx *, unsigned int);

/* enum nft_output_flags (nftables/libnftables.h): NFT_CTX_OUTPUT_JSON. */
#define OUTPUT_JSON (1u << 4)

static struct {
  void *lib;
  ctx_new_fn ctx_new;
  ctx_free_fn ctx_free;
  run_fn run;
  buffer_fn buffer_output, buffer_error;
  get_buffer_fn get_output, get_error;
  get_flags_fn get_flags;
  set_flags_fn set_flags;
} nft;

typedef struct {
  struct nft_ctx *ctx;
  int busy;
} handle_t;

typedef struct {
  napi_async_work work;
  napi_ref callback;
  handle_t *h;
  char *commands;
  int json;
  int rc;
  char *out;
  char *err;
} job_t;

static int load(char *why, size_t n) {
  if (nft.lib) return 0;
  void *lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    snprintf(why, n, "dlopen libnftables.so.1: %s", dlerror());
    return -1;
  }
#define SYM(field, name, type)                                          \
  nft.field = (type)dlsym(lib, name);                                   \
  if (!nft.field) {                                                     \
    snprintf(why, n, "libnftables.so.1 has no %s", name);               \
    dlclose(lib);                                                       \
    return -1;                                                          \
  }
  SYM(ctx_new, "nft_ctx_new", ctx_new_fn)
  SYM(ctx_free, "nft_ctx_free", ctx_free_fn)
  SYM(run, "nft_run_cmd_from_buffer", run_fn)
  SYM(buffer_output, "nft_ctx_buffer_output", buffer_fn)
  SYM(buffer_error, "nft_ctx_buffer_error", buffer_fn)
  SYM(get_output, "nft_ctx_get_output_buffer", get_buffer_fn)
  SYM(get_error, "nft_ctx_get_error_buffer", get_buffer_fn)
  SYM(get_flags, "nft_ctx_output_get_flags", get_flags_fn)
  SYM(set_flags, "nft_ctx_output_set_flags", set_flags_fn)
#undef SYM
  nft.lib = lib;
  return 0;
}

static napi_value throw_msg(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  handle_t *h = data;
  if (h->ctx && !h->busy) nft.ctx_free(h->ctx);
  free(h);
}

/* open(netnsPath?: string): a handle; the context's netlink socket lives in that namespace. */
static napi_value nft_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char why[256];
  if (load(why, sizeof why) != 0) return throw_msg(env, why);
  char path[512] = "";
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t == napi_string) napi_get_value_string_utf8(env, argv[0], path, sizeof path, NULL);
  int back = -1;
  if (path[0]) {
    int target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      snprintf(why, sizeof why, "open %s: %s", path, strerror(errno));
      return throw_msg(env, why);
    }
    back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (back < 0 || setns(target, CLONE_NEWNET) != 0) {
      snprintf(why, sizeof why, "setns %s: %s", path, strerror(errno));
      close(target);
      if (back >= 0) close(back);
      return throw_msg(env, why);
    }
    close(target);
  }
  /* NFT_CTX_DEFAULT: the netlink socket is opened now, in the thread's namespace. */
  struct nft_ctx *ctx = nft.ctx_new(0);
  if (back >= 0) {
    int ok = setns(back, CLONE_NEWNET);
    close(back);
    if (ok != 0) abort(); /* the main thread left in another namespace would be worse than a crash */
  }
  if (!ctx) return throw_msg(env, "nft_ctx_new failed");
  nft.buffer_output(ctx);
  nft.buffer_error(ctx);
  handle_t *h = calloc(1, sizeof *h);
  h->ctx = ctx;
  napi_value ext;
  napi_create_external(env, h, finalize_handle, NULL, &ext);
  return ext;
}

static void execute(napi_env env, void *data) {
  job_t *j = data;
  unsigned int flags = nft.get_flags(j->h->ctx);
  nft.set_flags(j->h->ctx, j->json ? (flags | OUTPUT_JSON) : (flags & ~OUTPUT_JSON));
  j->rc = nft.run(j->h->ctx, j->commands);
  j->out = strdup(nft.get_output(j->h->ctx));
  j->err = strdup(nft.get_error(j->h->ctx));
  nft.set_flags(j->h->ctx, flags);
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *j = data;
  j->h->busy = 0;
  napi_value cb, global, args[3];
  napi_get_reference_value(env, j->callback, &cb);
  napi_get_global(env, &global);
  napi_create_int32(env, status == napi_ok ? j->rc : -1, &args[0]);
  napi_create_string_utf8(env, j->out ? j->out : "", NAPI_AUTO_LENGTH, &args[1]);
  napi_create_string_utf8(env, j->err ? j->err : "", NAPI_AUTO_LENGTH, &args[2]);
  napi_delete_reference(env, j->callback);
  napi_delete_async_work(env, j->work);
  free(j->commands);
  free(j->out);
  free(j->err);
  free(j);
  napi_call_function(env, global, cb, 3, args, NULL);
}

/* run(handle, commands, json, callback(rc, output, errors)): one transaction on the thread pool. */
static napi_value nft_run(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) return throw_msg(env, "run(handle, commands, json, callback)");
  handle_t *h;
  if (napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !h->ctx) return throw_msg(env, "not an open nft handle");
  if (h->busy) return throw_msg(env, "one transaction at a time per handle");
  size_t len;
  napi_get_value_string_utf8(env, argv[1], NULL, 0, &len);
  job_t *j = calloc(1, sizeof *j);
  j->commands = malloc(len + 1);
  napi_get_value_string_utf8(env, argv[1], j->commands, len + 1, NULL);
  bool json = false;
  napi_get_value_bool(env, argv[2], &json);
  j->json = json;
  j->h = h;
  napi_create_reference(env, argv[3], 1, &j->callback);
  napi_value name;
  napi_create_string_utf8(env, "fluxdns_nft", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  h->busy = 1;
  napi_queue_async_work(env, j->work);
  return NULL;
}

/* close(handle): frees the context (the caller waits for its last transaction first). */
static napi_value nft_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  handle_t *h;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok) return NULL;
  if (h->ctx && !h->busy) {
    nft.ctx_free(h->ctx);
    h->ctx = NULL;
  }
  return NULL;
}

/* ---- raw netlink (NETLINK_NETFILTER) ---- */

typedef struct {
  int fd;
  int busy;
  int dirty; /* the last batch may have left replies unread */
} nl_t;

typedef struct {
  napi_async_work work;
  napi_ref callback;
  nl_t *h;
  char *buf;
  size_t len;
  uint32_t seq0, seqn; /* replies with seq in [seq0, seq0 + seqn) are ours */
  int acks;            /* acknowledgements expected (messages sent with NLM_F_ACK) */
  int sys;             /* errno of sendmsg/recv/poll, 0 if none */
  int nerr;
  uint32_t err_seq[16];
  int err_no[16];
  int got;
} nljob_t;

/* Runs `fn` with the calling thread in the namespace at `path` (if any), then switches back. */
static int in_netns(const char *path, int (*fn)(void *), void *arg, char *why, size_t n) {
  int back = -1;
  if (path[0]) {
    int target = open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      snprintf(why, n, "open %s: %s", path, strerror(errno));
      return -1;
    }
    back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (back < 0 || setns(target, CLONE_NEWNET) != 0) {
      snprintf(why, n, "setns %s: %s", path, strerror(errno));
      close(target);
      if (back >= 0) close(back);
      return -1;
    }
    close(target);
  }
  int rc = fn(arg);
  if (back >= 0) {
    int ok = setns(back, CLONE_NEWNET);
    close(back);
    if (ok != 0) abort(); /* the main thread left in another namespace would be worse than a crash */
  }
  return rc;
}

static int open_nl_socket(void *arg) {
  int *fd = arg;
  *fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  return *fd < 0 ? -1 : 0;
}

static void finalize_nl(napi_env env, void *data, void *hint) {
  nl_t *h = data;
  if (h->fd >= 0 && !h->busy) close(h->fd);
  if (!h->busy) free(h);
}

/* nlOpen(netnsPath?: string): a handle on a NETLINK_NETFILTER socket in that namespace. */
static napi_value nl_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char why[256] = "";
  char path[512] = "";
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t == napi_string) napi_get_value_string_utf8(env, argv[0], path, sizeof path, NULL);
  int fd = -1;
  if (in_netns(path, open_nl_socket, &fd, why, sizeof why) != 0) {
    if (!why[0]) snprintf(why, sizeof why, "netlink socket: %s", strerror(errno));
    return throw_msg(env, why);
  }
  int one = 1;
  /* Acknowledgements carry only the header of the message they answer, not the whole message. */
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  /* A batch of many elements in one sendmsg; the FORCE variants pass rmem_max/wmem_max as root. */
  int size = 8 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  size = 1 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  struct sockaddr_nl a = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    snprintf(why, sizeof why, "bind netlink: %s", strerror(errno));
    close(fd);
    return throw_msg(env, why);
  }
  nl_t *h = calloc(1, sizeof *h);
  h->fd = fd;
  napi_value ext;
  napi_create_external(env, h, finalize_nl, NULL, &ext);
  return ext;
}

/* One reply: an NLMSG_ERROR (error 0: acknowledgement) for a message of ours, counted or kept. */
static void nl_reply(nljob_t *j, const struct nlmsghdr *m) {
  if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) return;
  if (m->nlmsg_seq - j->seq0 >= j->seqn) return; /* a late reply to an earlier batch */
  const struct nlmsgerr *e = NLMSG_DATA(m);
  j->got++;
  if (e->error != 0 && j->nerr < 16) {
    j->err_seq[j->nerr] = m->nlmsg_seq;
    j->err_no[j->nerr] = -e->error;
    j->nerr++;
  }
}

/* Replies are small (NETLINK_CAP_ACK): up to this many are read with one recvmmsg. */
#define NL_VLEN 32
#define NL_SLOT 512

static void nl_execute(napi_env env, void *data) {
  nljob_t *j = data;
  int fd = j->h->fd;
  char *rbuf = malloc(NL_VLEN * NL_SLOT);
  struct mmsghdr vec[NL_VLEN];
  struct iovec iov[NL_VLEN];
  /* Replies left from an earlier batch that failed half way are dropped first. */
  if (j->h->dirty)
    while (recv(fd, rbuf, NL_SLOT, MSG_DONTWAIT | MSG_TRUNC) >= 0) {
    }
  j->h->dirty = 1;
  ssize_t w;
  do w = send(fd, j->buf, j->len, 0);
  while (w < 0 && errno == EINTR);
  if (w < 0 || (size_t)w != j->len) {
    j->sys = w < 0 ? errno : EMSGSIZE;
    free(rbuf);
    return;
  }
  /*
   * nfnetlink processes the batch inside send() and queues the replies before it returns, so they
   * are normally all here for one recvmmsg; the poll only guards against a kernel that does it
   * otherwise. After an error the batch was aborted: what else is queued is read without waiting.
   */
  while (j->got < j->acks) {
    for (int i = 0; i < NL_VLEN; i++) {
      iov[i].iov_base = rbuf + i * NL_SLOT;
      iov[i].iov_len = NL_SLOT;
      memset(&vec[i].msg_hdr, 0, sizeof vec[i].msg_hdr);
      vec[i].msg_hdr.msg_iov = &iov[i];
      vec[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, vec, NL_VLEN, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {
        j->sys = errno;
        break;
      }
      if (j->nerr) break;
      struct pollfd p = {.fd = fd, .events = POLLIN};
      int r = poll(&p, 1, 5000);
      if (r == 0) {
        j->sys = ETIMEDOUT;
        break;
      }
      if (r < 0 && errno != EINTR) {
        j->sys = errno;
        break;
      }
      continue;
    }
    for (int i = 0; i < n; i++) {
      int len = (int)vec[i].msg_len;
      if (len > NL_SLOT) len = NL_SLOT; /* truncated: the header and error code are still whole */
      for (struct nlmsghdr *m = (struct nlmsghdr *)iov[i].iov_base; NLMSG_OK(m, (unsigned)len); m = NLMSG_NEXT(m, len)) nl_reply(j, m);
    }
  }
  if (!j->sys && !j->nerr && j->got == j->acks) j->h->dirty = 0;
  free(rbuf);
}

static void nl_complete(napi_env env, napi_status status, void *data) {
  nljob_t *j = data;
  j->h->busy = 0;
  napi_value cb, global, args[3], errs;
  napi_get_reference_value(env, j->callback, &cb);
  napi_get_global(env, &global);
  /* (sysError: string, errors: [seq, errno, text][], acks: number) */
  napi_create_string_utf8(env, status != napi_ok ? "async work failed" : j->sys ? strerror(j->sys) : "", NAPI_AUTO_LENGTH, &args[0]);
  napi_create_array_with_length(env, j->nerr, &errs);
  for (int i = 0; i < j->nerr; i++) {
    napi_value e, v;
    napi_create_array_with_length(env, 3, &e);
    napi_create_uint32(env, j->err_seq[i], &v);
    napi_set_element(env, e, 0, v);
    napi_create_int32(env, j->err_no[i], &v);
    napi_set_element(env, e, 1, v);
    napi_create_string_utf8(env, strerror(j->err_no[i]), NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, e, 2, v);
    napi_set_element(env, errs, i, e);
  }
  args[1] = errs;
  napi_create_int32(env, j->got, &args[2]);
  napi_delete_reference(env, j->callback);
  napi_delete_async_work(env, j->work);
  free(j->buf);
  free(j);
  napi_call_function(env, global, cb, 3, args, NULL);
}

/*
 * nlRun(handle, batch: Uint8Array, seq0, seqCount, acks, callback(sysError, errors, acks)): sends the
 * batch (BATCH_BEGIN … BATCH_END, already encoded) on the thread pool and collects the replies.
 */
static napi_value nl_run(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) return throw_msg(env, "nlRun(handle, batch, seq0, seqCount, acks, callback)");
  nl_t *h;
  if (napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || h->fd < 0) return throw_msg(env, "not an open netlink handle");
  if (h->busy) return throw_msg(env, "one batch at a time per netlink handle");
  void *data;
  size_t len;
  if (napi_get_typedarray_info(env, argv[1], NULL, &len, &data, NULL, NULL) != napi_ok) return throw_msg(env, "batch: expected a Uint8Array");
  nljob_t *j = calloc(1, sizeof *j);
  j->buf = malloc(len ? len : 1);
  memcpy(j->buf, data, len);
  j->len = len;
  napi_get_value_uint32(env, argv[2], &j->seq0);
  napi_get_value_uint32(env, argv[3], &j->seqn);
  napi_get_value_int32(env, argv[4], &j->acks);
  j->h = h;
  napi_create_reference(env, argv[5], 1, &j->callback);
  napi_value name;
  napi_create_string_utf8(env, "fluxdns_nft_netlink", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, nl_execute, nl_complete, j, &j->work);
  h->busy = 1;
  napi_queue_async_work(env, j->work);
  return NULL;
}

/* nlClose(handle): closes the socket (the caller waits for its last batch first). */
static napi_value nl_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  nl_t *h;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&h) != napi_ok) return NULL;
  if (h->fd >= 0 && !h->busy) {
    close(h->fd);
    h->fd = -1;
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, nft_open, NULL, NULL, NULL, napi_default, NULL},
      {"run", NULL, nft_run, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, nft_close, NULL, NULL, NULL, napi_default, NULL},
      {"nlOpen", NULL, nl_open, NULL, NULL, NULL, napi_default, NULL},
      {"nlRun", NULL, nl_run, NULL, NULL, NULL, napi_default, NULL},
      {"nlClose", NULL, nl_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 6, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
