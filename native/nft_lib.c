// fluxdns_nft: nftables transactions through libnftables in this process, off the event loop.
//
// `nft -i` spends about 2.5 ms of CPU per command on this machine (libedit reads its input one byte
// at a time and echoes it), where libnftables itself needs under 0.1 ms for an `add element`; a
// fresh `nft` process costs more still. This addon loads libnftables.so.1 with dlopen (no headers or
// link-time dependency: the build never fails for want of libnftables), opens one context — in a
// named network namespace when asked, by switching the calling thread there while the context's
// netlink socket is created — and runs each batch of commands as one transaction on libuv's thread
// pool, so the event loop keeps serving queries while the kernel commits.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, nft_open, NULL, NULL, NULL, napi_default, NULL},
      {"run", NULL, nft_run, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, nft_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
