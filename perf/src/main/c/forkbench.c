/*
 * forkbench.c: the Linux baseline of `./ufork bench fork`.
 *
 * Built and run by dev.ufork.perf.forkbench.LinuxForkBaseline at bench time (cc -O2). It measures how long
 * fork(2) takes for a small process that holds SIZE bytes of touched, private anonymous memory, the same number
 * of bytes a µprocess holds in the ufork rows.
 *
 * usage: forkbench SIZE_BYTES FORKS TOUCH
 *   SIZE_BYTES  bytes to map and write (every page is written, so all of it is resident)
 *   FORKS       how many forks to time (the caller drops its warm-up forks from the front)
 *   TOUCH       0: time from just before fork() until fork() returns in the parent; the child _exit(0)s at once
 *                  and is reaped outside the timed region.
 *               1: time from just before fork() until the child has written one byte in every page (a
 *                  copy-on-write fault each), _exit(0)ed and been reaped by waitpid in the parent.
 *
 * Output on stdout: one latency in microseconds per line, in fork order, then, if /proc/<pid>/smaps_rollup is
 * readable, one line "private_dirty_bytes N": the Private_Dirty of a child right after fork (after its writes
 * with TOUCH=1), measured by one extra, untimed fork. Errors go to stderr with exit status 1.
 *
 * The memory uses 4 KiB pages (MADV_NOHUGEPAGE), as the "4K" column of machine-baselines.md §1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096L

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void die(const char *what)
{
    fprintf(stderr, "forkbench: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* The child's side of a touch fork: write one byte in every page, so each page takes a copy-on-write fault. */
static void touch_all(volatile char *mem, long size, char value)
{
    for (long off = 0; off < size; off += PAGE)
    {
        mem[off] = value;
    }
}

/* Private_Dirty of the calling process in bytes, from /proc/self/smaps_rollup; -1 if unavailable. */
static long private_dirty_bytes(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (f == NULL)
    {
        return -1;
    }
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f) != NULL)
    {
        if (sscanf(line, "Private_Dirty: %ld kB", &kib) == 1)
        {
            break;
        }
    }
    fclose(f);
    return kib < 0 ? -1 : kib * 1024;
}

/* Waits for child `pid` and checks that it exited with status 0. */
static void reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
    {
        if (errno != EINTR)
        {
            die("waitpid");
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    {
        fprintf(stderr, "forkbench: child %d ended with wait status 0x%x\n", (int)pid, status);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4)
    {
        fprintf(stderr, "usage: %s SIZE_BYTES FORKS TOUCH(0|1)\n", argv[0]);
        return 2;
    }
    const long size = atol(argv[1]);
    const int forks = atoi(argv[2]);
    const int touch = atoi(argv[3]) != 0;
    if (size <= 0 || forks <= 0)
    {
        fprintf(stderr, "forkbench: SIZE_BYTES and FORKS must be positive\n");
        return 2;
    }

    /* The results array is allocated and touched before the big mapping, so it is not part of the fork cost. */
    double *lat = calloc((size_t)forks, sizeof *lat);
    if (lat == NULL)
    {
        die("calloc");
    }

    /* Map SIZE bytes of private anonymous memory and make every page resident with data. */
    char *mem = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
    {
        die("mmap");
    }
    madvise(mem, (size_t)size, MADV_NOHUGEPAGE); /* best effort: 4 KiB pages, as the µprocess's pages */
    memset(mem, 0x5a, (size_t)size);

    /* Nothing may sit in stdio's buffer at a fork, or a child could write it a second time. */
    fflush(stdout);

    for (int i = 0; i < forks; i++)
    {
        const double start = now_us();
        const pid_t pid = fork();
        if (pid < 0)
        {
            die("fork");
        }
        if (pid == 0)
        {
            /* Child. */
            if (touch)
            {
                touch_all(mem, size, (char)i);
            }
            _exit(0);
        }
        /* Parent: fork has returned here. */
        if (touch)
        {
            reap(pid);
            lat[i] = now_us() - start;
        }
        else
        {
            lat[i] = now_us() - start;
            reap(pid);
        }
    }

    /* One untimed fork in which the child reports its own Private_Dirty through a pipe. */
    int fds[2];
    long dirty = -1;
    if (pipe(fds) == 0)
    {
        const pid_t pid = fork();
        if (pid < 0)
        {
            die("fork");
        }
        if (pid == 0)
        {
            if (touch)
            {
                touch_all(mem, size, 1);
            }
            long mine = private_dirty_bytes();
            ssize_t ignored = write(fds[1], &mine, sizeof mine);
            (void)ignored;
            _exit(0);
        }
        close(fds[1]);
        long value;
        if (read(fds[0], &value, sizeof value) == (ssize_t)sizeof value)
        {
            dirty = value;
        }
        close(fds[0]);
        reap(pid);
    }

    for (int i = 0; i < forks; i++)
    {
        printf("%.3f\n", lat[i]);
    }
    if (dirty >= 0)
    {
        printf("private_dirty_bytes %ld\n", dirty);
    }
    munmap(mem, (size_t)size);
    free(lat);
    return fflush(stdout) == 0 ? 0 : 1;
}
