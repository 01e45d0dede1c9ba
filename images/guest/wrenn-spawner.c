/*
 * wrenn-spawner: starts processes for envd, so envd never forks itself.
 *
 * envd is a large Node process: libuv forks all of it for every child (~3 ms of blocked event loop on a host,
 * 100+ ms under QEMU's TCG). This static helper is tiny and starts children with vfork, so that is cheap. envd
 * starts it once; it is in every template's memory snapshot.
 *
 * Requests on stdin, each one frame: u32 little-endian payload length, then the payload, a list of fields,
 * each ending in NUL (so argv and env strings may hold any byte but NUL):
 *   spawn NUL id NUL file NUL cwd NUL uid NUL gid NUL stdin NUL argc NUL argv... NUL envc NUL env... NUL
 *     uid/gid: a number, or "-" to keep the spawner's; stdin: "1" gives the child a pipe, "0" /dev/null.
 *   release NUL id NUL
 *     closes the spawner's copies of that spawn's pipe ends (envd opened its own through /proc/PID/fd/N).
 * Answers and events on stdout, one text line each:
 *   ok ID PID STDIN_FD STDOUT_FD STDERR_FD     the spawner's fd numbers of the parent-side ends (-1: none)
 *   error ID ERRNO STAGE                       nothing was started; STAGE says which step failed
 *   exit PID code N | exit PID signal N        a started child ended (it has been reaped)
 * Every spawn gets exactly one ok/error line, in request order; release has no answer. EOF on stdin ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAME (64u << 20) /* argv + env of one spawn; the kernel's own limit is far lower */
#define MAX_HELD 1024         /* spawns whose pipe ends wait for their release */
#define MAX_SCRIPT_ARGS 65536 /* argv of a #!-less script run through /bin/sh, on the child's stack */

struct held {
    int in_use;
    unsigned long long id;
    int fds[3];
};

static struct held held[MAX_HELD];

enum stage { ST_CHDIR = 1, ST_SETGROUPS, ST_SETGID, ST_SETUID, ST_STDIN, ST_DUP2, ST_EXEC };
static const char *stage_name(int s) {
    switch (s) {
    case ST_CHDIR: return "chdir";
    case ST_SETGROUPS: return "setgroups";
    case ST_SETGID: return "setgid";
    case ST_SETUID: return "setuid";
    case ST_STDIN: return "stdin";
    case ST_DUP2: return "dup2";
    case ST_EXEC: return "exec";
    default: return "child";
    }
}

/* Writes a whole line to stdout; envd gone means there is nobody left to serve. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof line) n = (int)sizeof line - 1;
    for (int off = 0; off < n;) {
        ssize_t w = write(1, line + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(0);
        off += (int)w;
    }
}

/* The next NUL-terminated field at *p, or NULL when the payload ends first. */
static char *field(char **p, char *end) {
    char *s = *p;
    char *nul = s < end ? memchr(s, 0, (size_t)(end - s)) : NULL;
    if (!nul) return NULL;
    *p = nul + 1;
    return s;
}

static int parse_ull(const char *s, unsigned long long *out) {
    if (!s || !*s) return -1;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || *e || s[0] == '-') return -1;
    *out = v;
    return 0;
}

/* "-" keeps the spawner's id; otherwise a number below 2^32-1. */
static int parse_id(const char *s, long long *out) {
    unsigned long long v;
    if (s && strcmp(s, "-") == 0) {
        *out = -1;
        return 0;
    }
    if (parse_ull(s, &v) || v >= 0xffffffffull) return -1;
    *out = (long long)v;
    return 0;
}

/* Reads `argc` then that many fields into a NULL-terminated array (malloc'd). */
static char **string_list(char **p, char *end) {
    unsigned long long n;
    if (parse_ull(field(p, end), &n) || n > MAX_FRAME / 2) return NULL;
    char **list = calloc((size_t)n + 1, sizeof *list);
    if (!list) return NULL;
    for (unsigned long long i = 0; i < n; i++) {
        if (!(list[i] = field(p, end))) {
            free(list);
            return NULL;
        }
    }
    return list;
}

static void close_all(int *fds, int n) {
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0) close(fds[i]);
}

/* The child between vfork and exec. It shares the spawner's memory until then (the spawner is suspended and
   single-threaded), so it only makes system calls and writes its own stack: no malloc, no stdio. Signal
   dispositions are its own (vfork does not share them). Reports a failure on errfd, then _exits. */
static void child(const char *file, char **argv, char **envp, const char *cwd, long long uid, long long gid,
                  int in_r, int out_w, int err_w, int errfd) {
    int stage = 0;
    sigset_t none;
    /* The spawner ignores SIGPIPE and blocks SIGCHLD; a user process starts with the defaults. */
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* Its own session and process group, so envd signals the whole group (kill(-pid)). */
    setsid();
    if (in_r < 0 && (in_r = open("/dev/null", O_RDONLY)) < 0) {
        stage = ST_STDIN;
        goto fail;
    }
    if (dup2(in_r, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0) {
        stage = ST_DUP2;
        goto fail;
    }
    /* As libuv does: chdir first (root may enter any directory), then drop groups, gid, uid. */
    if (chdir(cwd) < 0) {
        stage = ST_CHDIR;
        goto fail;
    }
    if (uid >= 0 && setgroups(0, NULL) < 0 && errno != EPERM) {
        stage = ST_SETGROUPS;
        goto fail;
    }
    if (gid >= 0 && setgid((gid_t)gid) < 0) {
        stage = ST_SETGID;
        goto fail;
    }
    if (uid >= 0 && setuid((uid_t)uid) < 0) {
        stage = ST_SETUID;
        goto fail;
    }
    execve(file, argv, envp);
    if (errno == ENOEXEC) {
        /* A script without #!: run it with /bin/sh, as execvp (and so child_process.spawn) does. */
        int argc = 0;
        while (argv[argc]) argc++;
        /* On the stack, not malloc: this child shares the spawner's memory (vfork), so a heap block would leak there.
           Past MAX_SCRIPT_ARGS the script's own ENOEXEC is reported. */
        if (argc <= MAX_SCRIPT_ARGS) {
            char *sh[argc + 2];
            sh[0] = "/bin/sh";
            sh[1] = (char *)file;
            for (int i = 1; i < argc; i++) sh[i + 1] = argv[i];
            sh[argc + 1] = NULL;
            execve("/bin/sh", sh, envp);
        }
        errno = ENOEXEC; /* report the script's error, not the shell's */
    }
    stage = ST_EXEC;
fail:;
    int report[2] = {errno, stage};
    while (write(errfd, report, sizeof report) < 0 && errno == EINTR) {
    }
    _exit(127);
}

static void spawn(char *p, char *end) {
    unsigned long long id;
    long long uid, gid;
    if (parse_ull(field(&p, end), &id)) {
        say("error 0 %d request\n", EINVAL);
        return;
    }
    char *file = field(&p, end), *cwd = field(&p, end);
    char *uid_s = field(&p, end), *gid_s = field(&p, end), *stdin_s = field(&p, end);
    if (!file || !cwd || parse_id(uid_s, &uid) || parse_id(gid_s, &gid) || !stdin_s ||
        (strcmp(stdin_s, "0") && strcmp(stdin_s, "1"))) {
        say("error %llu %d request\n", id, EINVAL);
        return;
    }
    char **argv = string_list(&p, end);
    char **envp = argv ? string_list(&p, end) : NULL;
    if (!argv || !envp || p != end) {
        free(argv);
        free(envp);
        say("error %llu %d request\n", id, EINVAL);
        return;
    }
    int slot = -1;
    for (int i = 0; i < MAX_HELD && slot < 0; i++)
        if (!held[i].in_use) slot = i;
    /* pipes: [0..1] stdin, [2..3] stdout, [4..5] stderr, [6..7] exec error report; all CLOEXEC so no other
       child ever inherits them (dup2 in the child clears the flag on 0/1/2 only). */
    int fds[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    int wants_stdin = stdin_s[0] == '1';
    int err = 0;
    const char *stage = "pipe";
    if (slot < 0) err = EMFILE;
    else if ((wants_stdin && pipe2(fds, O_CLOEXEC) < 0) || pipe2(fds + 2, O_CLOEXEC) < 0 ||
             pipe2(fds + 4, O_CLOEXEC) < 0 || pipe2(fds + 6, O_CLOEXEC) < 0)
        err = errno;
    pid_t pid = -1;
    if (!err) {
        /* vfork, not fork: no copy of the spawner's page tables and no copy-on-write faults after it. Measured in a
           TCG guest (a static parent, fork/vfork + exec of /bin/true + wait): p50 26.6 -> 25.8 and 33.4 -> 32.3 ms. */
        pid = vfork();
        if (pid == 0) child(file, argv, envp, cwd, uid, gid, fds[0], fds[3], fds[5], fds[7]);
        if (pid < 0) {
            err = errno;
            stage = "fork";
        }
    }
    free(argv);
    free(envp);
    /* The child's ends and the report's write end: only the child may hold them now. */
    int child_ends[4] = {fds[0], fds[3], fds[5], fds[7]};
    close_all(child_ends, 4);
    if (!err) {
        int report[2];
        ssize_t n;
        while ((n = read(fds[6], report, sizeof report)) < 0 && errno == EINTR) {
        }
        if (n == (ssize_t)sizeof report) {
            /* exec failed: reap the child here, so no exit event names a pid envd never saw. */
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
            err = report[0];
            stage = stage_name(report[1]);
        }
    }
    close(fds[6]);
    if (err) {
        int parent_ends[3] = {fds[1], fds[2], fds[4]};
        close_all(parent_ends, 3);
        say("error %llu %d %s\n", id, err, stage);
        return;
    }
    held[slot] = (struct held){1, id, {fds[1], fds[2], fds[4]}};
    say("ok %llu %d %d %d %d\n", id, (int)pid, fds[1], fds[2], fds[4]);
}

static void release(char *p, char *end) {
    unsigned long long id;
    if (parse_ull(field(&p, end), &id) || p != end) return;
    for (int i = 0; i < MAX_HELD; i++) {
        if (held[i].in_use && held[i].id == id) {
            close_all(held[i].fds, 3);
            held[i].in_use = 0;
            return;
        }
    }
}

static void handle(char *payload, uint32_t len) {
    char *p = payload, *end = payload + len;
    char *cmd = field(&p, end);
    if (cmd && strcmp(cmd, "spawn") == 0) spawn(p, end);
    else if (cmd && strcmp(cmd, "release") == 0) release(p, end);
    else say("error 0 %d request\n", EINVAL);
}

static void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (WIFSIGNALED(status)) say("exit %d signal %d\n", (int)pid, WTERMSIG(status));
        else if (WIFEXITED(status)) say("exit %d code %d\n", (int)pid, WEXITSTATUS(status));
    }
}

int main(int argc, char **argv) {
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "usage: wrenn-spawner (requests on stdin, see the source)\n");
        return 1;
    }
    /* fds 0-2 must be taken, or a pipe could land on them and be clobbered by the child's dup2. */
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) < 0) return 1;
    signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        perror("wrenn-spawner: signalfd");
        return 1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf) return 1;
    for (;;) {
        struct pollfd pfd[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("wrenn-spawner: poll");
            return 1;
        }
        if (pfd[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            reap();
        }
        if (!pfd[0].revents) continue;
        ssize_t n = read(0, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0; /* envd closed the channel (or is gone) */
        len += (size_t)n;
        size_t off = 0, need = 0;
        while (len - off >= 4) {
            uint32_t flen;
            memcpy(&flen, buf + off, 4); /* little-endian on every target we build for */
            if (flen > MAX_FRAME) {
                fprintf(stderr, "wrenn-spawner: frame of %u bytes exceeds %u\n", flen, MAX_FRAME);
                return 1;
            }
            if (len - off - 4 < flen) {
                need = (size_t)flen + 4;
                break;
            }
            handle(buf + off + 4, flen);
            off += 4 + (size_t)flen;
        }
        memmove(buf, buf + off, len - off);
        len -= off;
        if (need > cap) {
            char *grown = realloc(buf, need);
            if (!grown) return 1;
            buf = grown;
            cap = need;
        }
    }
}
