/*
 * wrenn-reseed: mix caller-supplied randomness into the kernel entropy pool and force the CRNG to
 * reseed now. Clones restored from one memory snapshot share the kernel's CRNG state and would hand
 * out identical "random" bytes (docs: vm.md §6, §11); envd runs this from /init with a per-clone seed
 * from the host so every clone diverges immediately.
 *
 * Usage: head -c 64 /dev/urandom | wrenn-reseed     (reads up to 512 bytes from stdin; needs root)
 * Exit status: 0 reseeded, 1 bad input (no bytes), 2 system call failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_SEED 512

#ifndef RNDRESEEDCRNG
#define RNDRESEEDCRNG _IO('R', 0x07)
#endif

int main(void) {
  struct {
    struct rand_pool_info info;
    unsigned char bytes[MAX_SEED];
  } req;
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
  int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "wrenn-reseed: open /dev/urandom: %s\n", strerror(errno));
    return 2;
  }
  /* Credit every bit: the seed comes from the host's CSPRNG, the whole point is to trust it. */
  req.info.entropy_count = (int)(got * 8);
  req.info.buf_size = (int)got;
  if (ioctl(fd, RNDADDENTROPY, &req.info) != 0) {
    fprintf(stderr, "wrenn-reseed: RNDADDENTROPY: %s\n", strerror(errno));
    return 2;
  }
  if (ioctl(fd, RNDRESEEDCRNG) != 0) {
    fprintf(stderr, "wrenn-reseed: RNDRESEEDCRNG: %s\n", strerror(errno));
    return 2;
  }
  explicit_bzero(req.bytes, sizeof req.bytes);
  close(fd);
  return 0;
}
