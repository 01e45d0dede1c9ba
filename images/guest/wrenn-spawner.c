/*
 * wrenn-spawner: starts processes for envd, so envd never forks itself, and relays their output to envd.
 *
 * envd is a large Node process: libuv forks all of it for every child (~3 ms of blocked event loop on a host,
 * 100+ ms under QEMU's TCG). This static helper is tiny and starts children with vfork, so that is cheap. envd
 * starts it once; it is in every template's memory snapshot. It also reads every child's stdout and stderr and
 * forwards them to envd over its own stdout, so envd handles one channel instead of two pipes per process (their
 * sockets, /proc opens and teardown were a fifth to a third of envd's CPU per command). Much waiting output is
 * spliced from the child's pipe to that channel rather than copied through the spawner (the frames are the same).
 *
 * Requests on stdin, each one frame: u32 little-endian payload length, then the payload, a list of fields,
 * each ending in NUL (so argv and env strings may hold any byte but NUL). ID is a decimal number, 1..2^32-1:
 *   spawn NUL id NUL file NUL cwd NUL uid NUL gid NUL stdin NUL argc NUL argv... NUL envc NUL env... NUL
 *     uid/gid: a number, or "-" to keep the spawner's; stdin: "1" gives the child a pipe, "0" /dev/null.
 *   release NUL id NUL   closes the spawner's copy of stdin's write end (envd opened its own through
 *                        /proc/PID/fd/N); needed only when the spawn asked for stdin.
 *   pause NUL id NUL     stops reading the process's output (backpressure: it blocks once its pipe fills).
 *   resume NUL id NUL    reads it again.
 *   forget NUL id NUL    envd is done with it: closes whatever the spawner still holds for it (a background
 *                        grandchild may keep the output pipes open long after the process exited).
 * Only spawn is answered; the others ignore an id the spawner does not hold (any more).
 *
 * Answers and events on stdout, binary frames: u8 type, u32 id, u32 payload length, then the payload; integers
 * little-endian (i32: two's complement). A frame is at most 65536 bytes, the size of envd's reads.
 *   1 OK          i32 pid, i32 the spawner's fd of stdin's write end (-1: no stdin)   answers a spawn
 *   2 ERROR       i32 errno, then the failed stage's name (ASCII, no NUL)             answers a spawn
 *   3 STDOUT      1..65527 bytes the process wrote to its stdout
 *   4 STDERR      the same for stderr
 *   5 STDOUT_EOF  empty: stdout reached EOF (or failed to read) and the spawner closed its end
 *   6 STDERR_EOF  the same for stderr
 *   7 EXIT        i32 exit code (-1 when killed), i32 signal number (0 when it exited); it has been reaped
 * Every spawn gets exactly one OK or ERROR, in request order; ERROR means nothing was started, and id 0 answers
 * a request too malformed to name one (a full process table, as many as RLIMIT_NOFILE, is EMFILE at stage "pipe").
 * After OK the process gets its data in order per stream, one EOF per stream and one EXIT. EXIT may precede the
 * EOFs (a background grandchild can hold the pipes), but what the spawner could read without blocking when it
 * reaped the process (up to 1 MiB per stream; nothing while paused) is sent before it. After `forget`, only an
 * EXIT not yet sent may follow. EOF on stdin ends the spawner.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAME (64u << 20) /* argv + env of one spawn; the kernel's own limit is far lower */
#define MAX_SCRIPT_ARGS 65536 /* argv of a #!-less script run through /bin/sh, on the child's stack */
#define HEADER 9              /* type, id, length */
#define CHUNK (65536 - HEADER) /* data per frame: a whole frame fits one of envd's 64 KiB reads */
#define OUT_CAP (4 * 65536)   /* frames of one loop turn, written together */
#define DRAIN_READS 16        /* reads per stream when its process is reaped: a grandchild may write forever */
#define MAX_PROCS (1u << 22)  /* the kernel's largest pid_max: more processes than this cannot exist */
#define SPLICE_MIN 16384      /* waiting output from which a frame is spliced rather than copied */
#define EXIT_WAIT_MS 10       /* how long an exit is awaited once a process closed both outputs (see main) */

enum { FR_OK = 1, FR_ERROR, FR_STDOUT, FR_STDERR, FR_STDOUT_EOF, FR_STDERR_EOF, FR_EXIT };

/* A started process, from its OK until it exited, both output pipes closed and stdin released (or forgotten). */
struct proc {
    int in_use;
    uint32_t id;
    pid_t pid;
    int stdin_fd;  /* the spawner's copy of stdin's write end, until release; -1 when none */
    int out[2];    /* read ends of stdout and stderr (O_NONBLOCK); -1 once closed */
    int is_paused;
    int has_exited;
};

static struct proc *procs;
static size_t nprocs, procs_cap, procs_max; /* slots used (high-water mark), allocated, allowed */

static char out[OUT_CAP];
static size_t out_len;

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

/* Writes the frames queued so far; envd gone means there is nobody left to serve. Blocks while envd's end is
   full: envd always reads its channel (it pauses a process by asking the spawner, never by not reading). */
static void flush(void) {
    for (size_t off = 0; off < out_len;) {
        ssize_t w = write(1, out + off, out_len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(0);
        off += (size_t)w;
    }
    out_len = 0;
}

static void put_u32(char *p, uint32_t v) {
    p[0] = (char)v;
    p[1] = (char)(v >> 8);
    p[2] = (char)(v >> 16);
    p[3] = (char)(v >> 24);
}

/* Queues a frame's header and returns where its `len` payload bytes go. */
static char *frame(int type, uint32_t id, uint32_t len) {
    if (out_len + HEADER + len > OUT_CAP) flush();
    char *h = out + out_len;
    h[0] = (char)type;
    put_u32(h + 1, id);
    put_u32(h + 5, len);
    out_len += HEADER + len;
    return h + HEADER;
}

static void send_pair(int type, uint32_t id, int32_t a, int32_t b) {
    char *p = frame(type, id, 8);
    put_u32(p, (uint32_t)a);
    put_u32(p + 4, (uint32_t)b);
}

static void send_error(uint32_t id, int err, const char *stage) {
    size_t n = strlen(stage);
    char *p = frame(FR_ERROR, id, 4 + (uint32_t)n);
    put_u32(p, (uint32_t)err);
    memcpy(p + 4, stage, n);
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

/* A request's id: 1..2^32-1 (0 names no request). */
static int parse_req_id(const char *s, uint32_t *out) {
    unsigned long long v;
    if (parse_ull(s, &v) || v == 0 || v > 0xffffffffull) return -1;
    *out = (uint32_t)v;
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

/* A free slot of the process table, grown on demand up to procs_max; NULL when full. */
static struct proc *free_slot(void) {
    for (size_t i = 0; i < nprocs; i++)
        if (!procs[i].in_use) return &procs[i];
    if (nprocs == procs_cap) {
        if (procs_cap >= procs_max) return NULL;
        size_t cap = procs_cap ? procs_cap * 2 : 64;
        if (cap > procs_max) cap = procs_max;
        struct proc *grown = realloc(procs, cap * sizeof *grown);
        if (!grown) return NULL;
        procs = grown;
        procs_cap = cap;
    }
    procs[nprocs].in_use = 0;
    return &procs[nprocs++];
}

static struct proc *by_id(uint32_t id) {
    for (size_t i = 0; i < nprocs; i++)
        if (procs[i].in_use && procs[i].id == id) return &procs[i];
    return NULL;
}

/* Frees the record once nothing about the process is left to report or hold. */
static void maybe_free(struct proc *p) {
    if (p->has_exited && p->out[0] < 0 && p->out[1] < 0 && p->stdin_fd < 0) p->in_use = 0;
}

/* 1 while splice to fd 1 works (envd gives a socket; set in main from what fd 1 is). */
static int can_splice;

/* Moves `n` bytes that wait in pipe `fd` to envd as one data frame, without copying them through the spawner: the
   frame's header is written, then the bytes are spliced from the pipe to the channel. Should the kernel refuse
   splice, the rest is copied instead (the header already promised n bytes) and splice is not tried again. */
static void splice_frame(struct proc *p, int s, int fd, size_t n) {
    frame(FR_STDOUT + s, p->id, 0);
    put_u32(out + out_len - HEADER + 5, (uint32_t)n);
    flush();
    for (size_t left = n; left > 0;) {
        ssize_t moved = can_splice ? splice(fd, NULL, 1, NULL, left, SPLICE_F_MOVE) : -1;
        if (moved < 0 && errno == EINTR) continue;
        if (moved < 0 && can_splice && errno == EINVAL) {
            can_splice = 0;
            continue;
        }
        if (!can_splice) {
            /* The bytes were waiting (FIONREAD) and only the spawner reads this pipe: they are all there. */
            size_t want = left < OUT_CAP ? left : OUT_CAP;
            while ((moved = read(fd, out, want)) < 0 && errno == EINTR) {
            }
            if (moved <= 0) _exit(1); /* cannot keep the frame's promise: the channel is broken for good */
            out_len = (size_t)moved;
            flush();
        } else if (moved <= 0) _exit(0); /* the channel failed: envd is gone */
        left -= (size_t)moved;
    }
}

/* Reads stream s (0 stdout, 1 stderr) of p once, straight into a data frame; at EOF or on an error closes it and
   sends its EOF frame. Returns 1 when bytes came, 0 when none are there yet, -1 when the stream is closed.
   With `may_splice`, much waiting output (a `cat` of a big file) is spliced to envd instead: no copy in and out of
   the spawner (the check costs a system call, which the drain after a reap, usually of little output, skips). */
static int relay(struct proc *p, int s, int may_splice) {
    int waiting = 0;
    if (may_splice && can_splice && ioctl(p->out[s], FIONREAD, &waiting) == 0 && waiting >= SPLICE_MIN) {
        splice_frame(p, s, p->out[s], (size_t)waiting < CHUNK ? (size_t)waiting : CHUNK);
        return 1;
    }
    if (out_len + HEADER + CHUNK > OUT_CAP) flush();
    ssize_t n;
    while ((n = read(p->out[s], out + out_len + HEADER, CHUNK)) < 0 && errno == EINTR) {
    }
    if (n < 0 && errno == EAGAIN) return 0;
    if (n > 0) {
        frame(FR_STDOUT + s, p->id, (uint32_t)n); /* fits: room was made above */
        return 1;
    }
    close(p->out[s]);
    p->out[s] = -1;
    frame(FR_STDOUT_EOF + s, p->id, 0);
    return -1;
}

/* Why the last vforked child failed before its exec (stage 0: it did not). The child writes it in the memory it
   shares with the suspended spawner, which reads it once vfork returns: no report pipe per spawn (four system calls
   fewer, each emulated guest work under TCG). */
static volatile struct {
    int err;
    int stage;
} child_failure;

/* The child between vfork and exec. It shares the spawner's memory until then (the spawner is suspended and
   single-threaded), so it only makes system calls and writes its own stack: no malloc, no stdio. Signal
   dispositions are its own (vfork does not share them). Reports a failure in child_failure, then _exits. */
static void child(const char *file, char **argv, char **envp, const char *cwd, long long uid, long long gid,
                  int in_r, int out_w, int err_w) {
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
    child_failure.err = errno;
    child_failure.stage = stage;
    _exit(127);
}

static void spawn(char *p, char *end) {
    uint32_t id;
    long long uid, gid;
    if (parse_req_id(field(&p, end), &id)) {
        send_error(0, EINVAL, "request");
        return;
    }
    char *file = field(&p, end), *cwd = field(&p, end);
    char *uid_s = field(&p, end), *gid_s = field(&p, end), *stdin_s = field(&p, end);
    if (!file || !cwd || parse_id(uid_s, &uid) || parse_id(gid_s, &gid) || !stdin_s ||
        (strcmp(stdin_s, "0") && strcmp(stdin_s, "1"))) {
        send_error(id, EINVAL, "request");
        return;
    }
    char **argv = string_list(&p, end);
    char **envp = argv ? string_list(&p, end) : NULL;
    if (!argv || !envp || p != end) {
        free(argv);
        free(envp);
        send_error(id, EINVAL, "request");
        return;
    }
    struct proc *slot = free_slot();
    /* pipes: [0..1] stdin, [2..3] stdout, [4..5] stderr; all CLOEXEC so no other child ever inherits them (dup2
       in the child clears the flag on 0/1/2 only). The output read ends are non-blocking: one process's empty pipe
       must not stall the others. */
    int fds[6] = {-1, -1, -1, -1, -1, -1};
    int wants_stdin = stdin_s[0] == '1';
    int err = 0;
    const char *stage = "pipe";
    if (!slot) err = EMFILE;
    else if ((wants_stdin && pipe2(fds, O_CLOEXEC) < 0) || pipe2(fds + 2, O_CLOEXEC) < 0 ||
             pipe2(fds + 4, O_CLOEXEC) < 0 ||
             fcntl(fds[2], F_SETFL, O_NONBLOCK) < 0 || fcntl(fds[4], F_SETFL, O_NONBLOCK) < 0)
        err = errno;
    pid_t pid = -1;
    if (!err) {
        /* vfork, not fork: no copy of the spawner's page tables and no copy-on-write faults after it. Measured in a
           TCG guest (a static parent, fork/vfork + exec of /bin/true + wait): p50 26.6 -> 25.8 and 33.4 -> 32.3 ms. */
        child_failure.err = child_failure.stage = 0;
        pid = vfork();
        if (pid == 0) child(file, argv, envp, cwd, uid, gid, fds[0], fds[3], fds[5]);
        if (pid < 0) {
            err = errno;
            stage = "fork";
        }
    }
    free(argv);
    free(envp);
    /* The child's ends: only the child may hold them now. */
    int child_ends[3] = {fds[0], fds[3], fds[5]};
    close_all(child_ends, 3);
    /* vfork returned: the child has exec'd, or failed and exited (having said why in child_failure). */
    if (!err && child_failure.stage) {
        /* exec failed: reap the child here, so no exit event names a process envd never saw. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        err = child_failure.err;
        stage = stage_name(child_failure.stage);
    }
    if (err) {
        int parent_ends[3] = {fds[1], fds[2], fds[4]};
        close_all(parent_ends, 3);
        send_error(id, err, stage);
        return;
    }
    *slot = (struct proc){1, id, pid, fds[1], {fds[2], fds[4]}, 0, 0};
    send_pair(FR_OK, id, pid, fds[1]);
}

/* release, pause, resume, forget: one id each, no answer. */
static void control(const char *cmd, char *p, char *end) {
    uint32_t id;
    if (parse_req_id(field(&p, end), &id) || p != end) return;
    struct proc *r = by_id(id);
    if (!r) return;
    if (strcmp(cmd, "release") == 0 || strcmp(cmd, "forget") == 0) {
        if (r->stdin_fd >= 0) close(r->stdin_fd);
        r->stdin_fd = -1;
    }
    if (strcmp(cmd, "forget") == 0) {
        close_all(r->out, 2);
        r->out[0] = r->out[1] = -1;
    }
    if (strcmp(cmd, "pause") == 0) r->is_paused = 1;
    if (strcmp(cmd, "resume") == 0) r->is_paused = 0;
    maybe_free(r);
}

static void handle(char *payload, uint32_t len) {
    char *p = payload, *end = payload + len;
    char *cmd = field(&p, end);
    if (cmd && strcmp(cmd, "spawn") == 0) spawn(p, end);
    else if (cmd && (!strcmp(cmd, "release") || !strcmp(cmd, "pause") || !strcmp(cmd, "resume") ||
                     !strcmp(cmd, "forget")))
        control(cmd, p, end);
    else send_error(0, EINVAL, "request");
}

/* Reaps every ended child. Its output that can be read without blocking goes first, so a short command's
   output, EOFs and EXIT usually reach envd in one write (a paused process's output waits for its resume). */
static void reap(void) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct proc *p = NULL;
        for (size_t i = 0; i < nprocs && !p; i++)
            if (procs[i].in_use && !procs[i].has_exited && procs[i].pid == pid) p = &procs[i];
        if (!p) continue;
        for (int s = 0; s < 2 && !p->is_paused; s++)
            for (int i = 0; i < DRAIN_READS && p->out[s] >= 0; i++)
                if (relay(p, s, 0) <= 0) break;
        p->has_exited = 1;
        if (WIFSIGNALED(status)) send_pair(FR_EXIT, p->id, -1, WTERMSIG(status));
        else send_pair(FR_EXIT, p->id, WEXITSTATUS(status), 0);
        maybe_free(p);
    }
}

/* Reads what envd sent and handles every whole request in it. Returns 1 to go on, 0 once envd closed the
   channel, -1 on a fatal error. */
static int read_requests(void) {
    static char *buf;
    static size_t cap, len;
    if (!buf && !(buf = malloc(cap = 1 << 16))) return -1;
    ssize_t n = read(0, buf + len, cap - len);
    if (n < 0 && errno == EINTR) return 1;
    if (n <= 0) return 0;
    len += (size_t)n;
    size_t off = 0, need = 0;
    while (len - off >= 4) {
        uint32_t flen;
        memcpy(&flen, buf + off, 4); /* little-endian on every target we build for */
        if (flen > MAX_FRAME) {
            fprintf(stderr, "wrenn-spawner: frame of %u bytes exceeds %u\n", flen, MAX_FRAME);
            return -1;
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
        if (!grown) return -1;
        buf = grown;
        cap = need;
    }
    return 1;
}

/* Which record and stream a poll entry past the first two stands for. */
struct watched {
    struct proc *p;
    int s;
};

/* Waits up to EXIT_WAIT_MS for an exit (sfd), a request (fd 0) or, unless it is -1, `fd` to be readable, and marks
   the exit or request in the main loop's pfd[1] / pfd[0]. Returns whether `fd` became readable. */
static int wait_briefly(struct pollfd *pfd, int sfd, int fd) {
    struct pollfd w[3] = {{.fd = sfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    if (poll(w, 3, EXIT_WAIT_MS) <= 0) return 0; /* poll skips an entry whose fd is negative */
    pfd[1].revents |= w[0].revents;
    pfd[0].revents |= w[1].revents;
    return w[2].revents != 0;
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
    struct stat channel;
    can_splice = fstat(1, &channel) == 0 && (S_ISSOCK(channel.st_mode) || S_ISFIFO(channel.st_mode));
    /* As many processes as the fd limit allows (each holds at least two pipe ends while its output flows). */
    struct rlimit nofile;
    procs_max = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < MAX_PROCS ? nofile.rlim_cur : MAX_PROCS;
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        perror("wrenn-spawner: signalfd");
        return 1;
    }
    struct pollfd *pfd = NULL;
    struct watched *watched = NULL;
    size_t watch_cap = 0;
    for (;;) {
        if (watch_cap < 2 + 2 * nprocs) {
            watch_cap = 2 + 2 * procs_cap;
            pfd = realloc(pfd, watch_cap * sizeof *pfd);
            watched = realloc(watched, watch_cap * sizeof *watched);
            if (!pfd || !watched) return 1;
        }
        pfd[0] = (struct pollfd){.fd = 0, .events = POLLIN};
        pfd[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
        nfds_t n_pfd = 2;
        for (size_t i = 0; i < nprocs; i++) {
            struct proc *p = &procs[i];
            if (!p->in_use || p->is_paused) continue;
            for (int s = 0; s < 2; s++) {
                if (p->out[s] < 0) continue;
                watched[n_pfd] = (struct watched){p, s};
                pfd[n_pfd++] = (struct pollfd){.fd = p->out[s], .events = POLLIN};
            }
        }
        if (poll(pfd, n_pfd, -1) < 0) {
            if (errno == EINTR) continue;
            perror("wrenn-spawner: poll");
            return 1;
        }
        /* Output first, then exits (so output read now precedes them), then requests (which may grow the table
           under `watched`). */
        int is_exit_near = 0;
        struct proc *half_closed = NULL; /* a live process whose stdout or stderr just closed, the other still open */
        for (nfds_t i = 2; i < n_pfd; i++) {
            if (!pfd[i].revents) continue;
            struct proc *p = watched[i].p;
            if (relay(p, watched[i].s, 1) < 0) {
                if (p->out[0] < 0 && p->out[1] < 0 && !p->has_exited) is_exit_near = 1;
                else if (!p->has_exited) half_closed = p;
                maybe_free(p);
            }
        }
        /* An exiting process closes its files one at a time, and on a host with more than one core the spawner can
           wake between the two. Waiting (briefly, ending early on a request or an exit) for the other output to close
           keeps both EOFs, and the EXIT after them, in one write. */
        if (half_closed && !is_exit_near && !half_closed->is_paused && !pfd[1].revents) {
            int s = half_closed->out[0] >= 0 ? 0 : 1;
            if (wait_briefly(pfd, sfd, half_closed->out[s]) && relay(half_closed, s, 1) < 0)
                is_exit_near = !half_closed->has_exited;
        }
        /* A process whose stdout and stderr both just closed is nearly always exiting: the kernel closes its files
           a moment before it signals the parent. Waiting for that moment (ending early on a request) sends its
           EOFs and EXIT to envd in one write, so envd wakes once for them instead of twice or three times (~1 ms
           each under TCG). One that closed its output and runs on costs this wait once. */
        if (is_exit_near && !pfd[1].revents) wait_briefly(pfd, sfd, -1);
        if (pfd[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0) {
            }
            reap();
        }
        if (pfd[0].revents) {
            int r = read_requests();
            if (r <= 0) {
                flush();
                return r < 0; /* 0: envd closed the channel (or is gone) */
            }
        }
        flush();
    }
}
