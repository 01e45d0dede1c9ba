/*
 * envd-overhead-client: the in-guest half of bench/envd-overhead-guest.ts. Times envd's process.Start of
 * /bin/true over loopback against posix_spawn + waitpid of /bin/true, and prints one JSON line:
 *   {"direct":[ms...],"envd":[...],"envd_json":[...],"health":[...],
 *    "cpu":{"start":[envd_ms,spawner_ms],"start_json":[...],"health":[...]}}
 * C, not Python: in production envd's caller is the host agent, outside the guest, so the client's own work
 * must cost next to nothing here; Python's parsing alone was ~2-3 ms of emulated guest CPU per call.
 *
 * Usage: envd-overhead-client RUNS ACCESS_TOKEN   (built with gcc -static: the guest needs no matching libc)
 * Exits 1 with a message on stderr on anything unexpected (a non-200 answer, a stream that did not end cleanly).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ENVD_PORT 49983
#define WARMUP_ROUNDS 10

extern char **environ;

/* A connection and its read buffer: [pos, len) is received but not yet consumed. Large so one recv usually takes a
 * whole answer. */
struct conn {
  int fd;
  size_t pos, len;
  char buf[1 << 20];
};
/* Two connections, kept apart as the agent keeps them: binary Connect calls and /health on one (envd answers those
 * on its HTTP/1.1 fast path for as long as a connection carries nothing else), JSON calls on the other (a JSON call
 * hands its connection to Node's HTTP server for good). */
static struct conn lane, json_lane;
/* The connection of the request in flight. */
static struct conn *c = &lane;
/* The body of the last response. */
static char body[1 << 20];
static size_t body_len;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap); /* first, while errno still holds the cause for %m */
  va_end(ap);
  fprintf(stderr, "envd-overhead-client: %s\n", msg);
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Receives more bytes, moving the unconsumed ones to the front when the buffer's tail is full. */
static void fill(void) {
  if (c->len == sizeof c->buf) {
    if (c->pos == 0) die("response head or chunk line larger than %zu bytes", sizeof c->buf);
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
  }
  ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
  if (n < 0) die("recv: %m");
  if (n == 0) die("envd closed the connection");
  c->len += n;
}

/* Consumes bytes up to and including sep; returns them NUL-terminated in place (valid until the next fill). */
static char *take_until(const char *sep, size_t *n) {
  size_t seplen = strlen(sep);
  char *hit;
  while (!(hit = memmem(c->buf + c->pos, c->len - c->pos, sep, seplen))) fill();
  char *out = c->buf + c->pos;
  *n = hit - out;
  *hit = '\0'; /* overwrites the consumed separator */
  c->pos = hit - c->buf + seplen;
  return out;
}

/* Consumes n bytes into the body. */
static void take_body(size_t n) {
  if (n > sizeof body - body_len) die("response body larger than %zu bytes", sizeof body);
  while (n > 0) {
    if (c->pos == c->len) fill();
    size_t k = c->len - c->pos < n ? c->len - c->pos : n;
    memcpy(body + body_len, c->buf + c->pos, k);
    body_len += k;
    c->pos += k;
    n -= k;
  }
}

/* Reads one HTTP/1.1 response into body; it must be a 200. Body by content-length or chunked encoding. */
static void response(void) {
  size_t n;
  char *head = take_until("\r\n\r\n", &n);
  for (size_t i = 0; i < n; i++) head[i] = tolower((unsigned char)head[i]);
  char *line = strsep(&head, "\n");
  line[strcspn(line, "\r")] = '\0';
  size_t line_len = strlen(line);
  /* " 200 " somewhere in the status line, or " 200" at its end (no reason phrase). */
  if (!strstr(line, " 200 ") && !(line_len >= 4 && strcmp(line + line_len - 4, " 200") == 0))
    die("envd answered \"%s\"", line);
  int chunked = 0;
  size_t content_length = 0;
  while ((line = strsep(&head, "\n"))) {
    line[strcspn(line, "\r")] = '\0';
    char *colon = strchr(line, ':');
    if (!colon) die("malformed header line \"%s\"", line);
    *colon = '\0';
    if (strcmp(line, "transfer-encoding") == 0) chunked = strstr(colon + 1, "chunked") != NULL;
    if (strcmp(line, "content-length") == 0) content_length = strtoull(colon + 1, NULL, 10);
  }
  body_len = 0;
  if (!chunked) {
    take_body(content_length);
    return;
  }
  for (;;) {
    char *end, *size_line = take_until("\r\n", &n);
    size_t size = strtoull(size_line, &end, 16);
    if (end == size_line) die("bad chunk size line \"%s\"", size_line);
    take_body(size);
    while (c->len - c->pos < 2) fill();
    if (memcmp(c->buf + c->pos, "\r\n", 2) != 0) die("chunk not followed by CRLF");
    c->pos += 2;
    if (size == 0) return;
  }
}

static void send_all(const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
    if (k < 0) die("send: %m");
    p += k;
    n -= k;
  }
}

struct request {
  char bytes[4096];
  size_t len;
};

/* One HTTP/1.1 request; extra_headers are whole CRLF-terminated lines. */
static void build(struct request *r, const char *method, const char *path, const char *extra_headers,
                  const char *payload, size_t payload_len) {
  int n = snprintf(r->bytes, sizeof r->bytes, "%s %s HTTP/1.1\r\nHost: envd\r\n%sContent-Length: %zu\r\n\r\n",
                   method, path, extra_headers, payload_len);
  if (n < 0 || (size_t)n + payload_len > sizeof r->bytes) die("request too large");
  memcpy(r->bytes + n, payload, payload_len);
  r->len = n + payload_len;
}

/*
 * StartRequest{process: ProcessConfig{cmd: "/bin/true"}, stdin: false}, as the agent sends a foreground command:
 * protobuf (what the agent sends) or JSON, in one Connect envelope (flags 0, big-endian length).
 */
static void build_start(struct request *r, int binary, const char *token) {
  static const char proto[] = "\x0a\x0b\x0a\x09/bin/true\x20\x00";
  static const char json[] = "{\"process\": {\"cmd\": \"/bin/true\"}, \"stdin\": false}";
  const char *msg = binary ? proto : json;
  size_t msg_len = binary ? sizeof proto - 1 : sizeof json - 1;
  char envelope[256] = {0, (char)(msg_len >> 24), (char)(msg_len >> 16), (char)(msg_len >> 8), (char)msg_len};
  memcpy(envelope + 5, msg, msg_len);
  char headers[1024];
  int n = snprintf(headers, sizeof headers,
                   "Content-Type: application/connect+%s\r\nConnect-Protocol-Version: 1\r\nX-Access-Token: %s\r\n",
                   binary ? "proto" : "json", token);
  if (n < 0 || (size_t)n >= sizeof headers) die("access token too long");
  build(r, "POST", "/process.Process/Start", headers, envelope, 5 + msg_len);
}

/* What the client times, in the order of one interleaved round. */
enum kind { DIRECT, START, START_JSON, HEALTH, KINDS };
static const char *kind_names[KINDS] = {"direct", "envd", "envd_json", "health"};
static struct request requests[KINDS];

/* posix_spawn + waitpid of /bin/true with our environment, or one request to envd and its whole answer, in ms. */
static double timed(enum kind kind) {
  double t = now_ms();
  if (kind == DIRECT) {
    char *argv[] = {"/bin/true", NULL};
    pid_t pid;
    int err = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);
    if (err) die("posix_spawn: %s", strerror(err));
    if (waitpid(pid, NULL, 0) < 0) die("waitpid: %m");
    return now_ms() - t;
  }
  c = kind == START_JSON ? &json_lane : &lane;
  send_all(requests[kind].bytes, requests[kind].len);
  response();
  double ms = now_ms() - t;
  if (kind == HEALTH) return ms;
  /* The stream must end cleanly: its last envelope is the end-of-stream flag (2) with "{}" (no error). */
  static const char eos[] = "\x02\x00\x00\x00\x02{}";
  if (body_len < sizeof eos - 1 || memcmp(body + body_len - (sizeof eos - 1), eos, sizeof eos - 1) != 0)
    die("stream did not end cleanly (%zu body bytes)", body_len);
  if (kind == START_JSON && !memmem(body, body_len, "\"end\"", 5)) die("no end event in the JSON stream");
  return ms;
}

/* The first process whose /proc/<pid>/comm is name, or 0. */
static pid_t pid_of(const char *name) {
  DIR *d = opendir("/proc");
  if (!d) die("opendir /proc: %m");
  pid_t found = 0;
  struct dirent *e;
  while (!found && (e = readdir(d))) {
    if (strspn(e->d_name, "0123456789") != strlen(e->d_name)) continue;
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue; /* gone since readdir */
    if (fgets(comm, sizeof comm, f)) comm[strcspn(comm, "\n")] = '\0';
    fclose(f);
    if (strcmp(comm, name) == 0) found = atoi(e->d_name);
  }
  closedir(d);
  return found;
}

/* User + system CPU time the kernel charged to pid, in ms (fields 14 and 15 of /proc/<pid>/stat). */
static double cpu_ms(pid_t pid) {
  if (pid == 0) return 0;
  char path[64], line[4096];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) die("%s: %m", path);
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = '\0';
  /* comm may hold spaces and parentheses: count fields from the last ')'. */
  char *p = strrchr(line, ')');
  unsigned long long utime, stime;
  if (!p || sscanf(p + 1, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &utime, &stime) != 2)
    die("cannot parse %s", path);
  return (utime + stime) * 1000.0 / sysconf(_SC_CLK_TCK);
}

static void connect_envd(struct conn *to) {
  to->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (to->fd < 0) die("socket: %m");
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(ENVD_PORT)};
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(to->fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect to 127.0.0.1:%d: %m", ENVD_PORT);
  /* No request may wait on Nagle's algorithm for the ACK of an earlier segment. */
  int one = 1;
  setsockopt(to->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int main(int argc, char **argv) {
  if (argc != 3) die("usage: envd-overhead-client RUNS ACCESS_TOKEN");
  int runs = atoi(argv[1]);
  if (runs <= 0) die("RUNS must be a positive number");

  connect_envd(&lane);
  connect_envd(&json_lane);

  build_start(&requests[START], 1, argv[2]);
  build_start(&requests[START_JSON], 0, argv[2]);
  build(&requests[HEALTH], "GET", "/health", "", "", 0);

  for (int i = 0; i < WARMUP_ROUNDS; i++)
    for (enum kind k = 0; k < KINDS; k++) timed(k);
  /* Interleaved, so drift in the guest (caches, timers) hits every kind alike. */
  double *ms = malloc(KINDS * runs * sizeof *ms);
  if (!ms) die("out of memory");
  for (int i = 0; i < runs; i++)
    for (enum kind k = 0; k < KINDS; k++) ms[k * runs + i] = timed(k);
  printf("{");
  for (enum kind k = 0; k < KINDS; k++) {
    printf("\"%s\":[", kind_names[k]);
    for (int i = 0; i < runs; i++) printf(i ? ",%.6f" : "%.6f", ms[k * runs + i]);
    printf("],");
  }

  /* Where the time goes: CPU time charged to envd and to wrenn-spawner per call, around a run of one kind. */
  static const char *cpu_names[KINDS] = {[START] = "start", [START_JSON] = "start_json", [HEALTH] = "health"};
  pid_t envd_pid = pid_of("envd"), spawner_pid = pid_of("wrenn-spawner");
  int n = runs > 50 ? runs : 50;
  printf("\"cpu\":{");
  for (enum kind k = START; k < KINDS; k++) {
    double envd_before = cpu_ms(envd_pid), spawner_before = cpu_ms(spawner_pid);
    for (int i = 0; i < n; i++) timed(k);
    printf("%s\"%s\":[%.6f,%.6f]", k == START ? "" : ",", cpu_names[k], (cpu_ms(envd_pid) - envd_before) / n,
           (cpu_ms(spawner_pid) - spawner_before) / n);
  }
  printf("}}\n");
  return 0;
}
