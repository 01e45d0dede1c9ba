/*
 * wrenn-reseed: the guest's privileged system helper. Clones restored from one memory snapshot share the
 * kernel's CRNG state and would hand out identical "random" bytes (docs: vm.md §6, §11), so envd mixes a
 * per-clone seed from the host into the pool and forces the CRNG to reseed; it also sets the clock and the
 * hostname on every /init.
 *
 * One-shot mode (no arguments): head -c 64 /dev/urandom | wrenn-reseed
 *   Reads up to 512 bytes from stdin, credits them to the pool (RNDADDENTROPY) and forces RNDRESEEDCRNG.
 *   Exit status: 0 reseeded, 1 bad input (no bytes), 2 system call failed.
 *
 * Server mode: wrenn-reseed --serve
 *   envd starts it once at its own start-up, so it already runs in every memory snapshot: under TCG each
 *   fork+exec costs ~130 ms, and /init would otherwise spawn one process per change. Reads one command per
 *   line on stdin and answers each with one line on stdout, "ok" or "error <message>"; exits 0 on EOF.
 *     seed <hex>          1..512 bytes, as in one-shot mode
 *     clock <unix_ms>     clock_settime(CLOCK_REALTIME), decimal milliseconds since the epoch, > 0
 *     hostname <name>     sethostname (1..64 bytes)
 *   Lines are at most 2 KiB; a longer line is discarded and answered with an error. Bad input never ends
 *   the server. Every call needs root.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_SEED 512
/* Room for "seed " + 1024 hex digits, with slack; anything longer is not a command we know. */
#define MAX_LINE 2048
#define HOSTNAME_MAX 64

#ifndef RNDRESEEDCRNG
#define RNDRESEEDCRNG _IO('R', 0x07)
#endif

struct seed_req {
  struct rand_pool_info info;
  unsigned char bytes[MAX_SEED];
};

/*
 * Credits req->bytes[0..len) to the kernel pool and forces a CRNG reseed. Returns 0, or -1 with errno set
 * and *what naming the failed step.
 */
static int reseed(struct seed_req *req, size_t len, const char **what) {
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *what = "open /dev/urandom";
    return -1;
  }
  /* Credit every bit: the seed comes from the host's CSPRNG, the whole point is to trust it. */
  req->info.entropy_count = (int)(len * 8);
  req->info.buf_size = (int)len;
  int rc = 0;
  if (ioctl(fd, RNDADDENTROPY, &req->info) != 0) {
    *what = "RNDADDENTROPY";
    rc = -1;
  } else if (ioctl(fd, RNDRESEEDCRNG) != 0) {
    *what = "RNDRESEEDCRNG";
    rc = -1;
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

static int one_shot(void) {
  struct seed_req req;
  size_t got = 0;
  while (got < MAX_SEED) {
    ssize_t n = read(STDIN_FILENO, req.bytes + got, MAX_SEED - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "wrenn-reseed: read stdin: %s\n", strerror(errno));
      return 2;
    }
    got += (size_t)n;
  }
  if (got == 0) {
    fprintf(stderr, "wrenn-reseed: no seed bytes on stdin\n");
    return 1;
  }
  const char *what = "";
  int rc = reseed(&req, got, &what);
  explicit_bzero(req.bytes, sizeof req.bytes);
  if (rc != 0) {
    fprintf(stderr, "wrenn-reseed: %s: %s\n", what, strerror(errno));
    return 2;
  }
  return 0;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void answer_ok(void) {
  fputs("ok\n", stdout);
  fflush(stdout); /* envd waits for this line before it sends the next command */
}

__attribute__((format(printf, 1, 2))) static void answer_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("error ", stdout);
  vfprintf(stdout, fmt, ap);
  fputc('\n', stdout);
  fflush(stdout);
  va_end(ap);
}

static void cmd_seed(const char *hex) {
  size_t len = strlen(hex);
  if (len == 0) {
    answer_error("seed: no bytes");
    return;
  }
  if (len % 2 != 0) {
    answer_error("seed: odd number of hex digits");
    return;
  }
  if (len / 2 > MAX_SEED) {
    answer_error("seed: more than %d bytes", MAX_SEED);
    return;
  }
  struct seed_req req;
  for (size_t i = 0; i < len / 2; i++) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      explicit_bzero(req.bytes, sizeof req.bytes);
      answer_error("seed: not hex");
      return;
    }
    req.bytes[i] = (unsigned char)(hi << 4 | lo);
  }
  const char *what = "";
  int rc = reseed(&req, len / 2, &what);
  explicit_bzero(req.bytes, sizeof req.bytes);
  if (rc != 0)
    answer_error("seed: %s: %s", what, strerror(errno));
  else
    answer_ok();
}

static void cmd_clock(const char *arg) {
  size_t len = strlen(arg);
  /* At most 18 digits: below 10^18, so the sum cannot overflow and the seconds fit any time_t. */
  int is_valid = len > 0 && len <= 18;
  uint64_t ms = 0;
  for (size_t i = 0; is_valid && i < len; i++) {
    if (arg[i] < '0' || arg[i] > '9') is_valid = 0;
    else ms = ms * 10 + (uint64_t)(arg[i] - '0');
  }
  if (!is_valid || ms == 0) {
    answer_error("clock: want positive unix milliseconds");
    return;
  }
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
  if (clock_settime(CLOCK_REALTIME, &ts) != 0)
    answer_error("clock: %s", strerror(errno));
  else
    answer_ok();
}

static void cmd_hostname(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > HOSTNAME_MAX) {
    answer_error("hostname: want 1..%d bytes", HOSTNAME_MAX);
    return;
  }
  if (sethostname(name, len) != 0)
    answer_error("hostname: %s", strerror(errno));
  else
    answer_ok();
}

/* Runs one complete line (newline stripped, NUL-terminated, `len` bytes read). */
static void dispatch(const char *line, size_t len) {
  if (strlen(line) != len) answer_error("NUL byte in command");
  else if (strncmp(line, "seed ", 5) == 0) cmd_seed(line + 5);
  else if (strncmp(line, "clock ", 6) == 0) cmd_clock(line + 6);
  else if (strncmp(line, "hostname ", 9) == 0) cmd_hostname(line + 9);
  else answer_error("unknown command");
}

static int serve(void) {
  /* envd gone means nobody reads our answers: fail the write and exit instead of dying on SIGPIPE. */
  signal(SIGPIPE, SIG_IGN);
  static char line[MAX_LINE + 1];
  size_t len = 0;
  int is_overlong = 0;
  for (;;) {
    int c = getchar_unlocked();
    if (c == EOF && len == 0 && !is_overlong) break;
    if (c == EOF || c == '\n') {
      if (is_overlong) {
        answer_error("line longer than %d bytes", MAX_LINE);
      } else {
        line[len] = '\0';
        dispatch(line, len);
      }
      explicit_bzero(line, len);
      len = 0;
      is_overlong = 0;
      if (ferror(stdout)) return 2;
      if (c == EOF) break;
      continue;
    }
    if (is_overlong) continue;
    if (len == MAX_LINE) {
      is_overlong = 1;
      continue;
    }
    line[len++] = (char)c;
  }
  return ferror(stdin) ? 2 : 0;
}

int main(int argc, char **argv) {
  if (argc == 1) return one_shot();
  if (argc == 2 && strcmp(argv[1], "--serve") == 0) return serve();
  fprintf(stderr, "usage: wrenn-reseed [--serve]\n");
  return 1;
}
