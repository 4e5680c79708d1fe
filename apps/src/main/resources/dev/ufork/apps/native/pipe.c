/*
 * pipe.c: the Linux side of `ufork bench pipe` (Unixbench Context1's ping-pong).
 *
 * Built and run by dev.ufork.apps.NativeBaseline (cc -O2) from the apps jar. Two pipes between a parent and its
 * child: the parent writes a 4-byte counter into the first, the child reads it and writes it back into the second,
 * the parent reads it and checks it; that is one round trip. WARMUP untimed round trips, then OPS (or, with OPS 0,
 * as many as fit in SECONDS). Blocking reads and writes, as the ufork side does.
 *
 * usage: pipe WARMUP OPS SECONDS
 *
 * Output on stdout, one "key value" per line:
 *   ops N           round trips measured
 *   seconds S       their wall time (CLOCK_MONOTONIC)
 *   ops_per_sec R   N / S
 * Errors go to stderr with exit status 1; bad arguments exit with status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "pipe: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Reads exactly 4 bytes; returns 0 at end of file. */
static int read_counter(int fd, uint32_t *value)
{
    size_t got = 0;
    while (got < sizeof *value)
    {
        const ssize_t n = read(fd, (char *)value + got, sizeof *value - got);
        if (n == 0)
        {
            return 0;
        }
        if (n < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            die("read");
        }
        got += (size_t)n;
    }
    return 1;
}

static void write_counter(int fd, uint32_t value)
{
    /* 4 bytes are below PIPE_BUF, so a blocking write is atomic and whole. */
    while (write(fd, &value, sizeof value) != (ssize_t)sizeof value)
    {
        if (errno != EINTR)
        {
            die("write");
        }
    }
}

static void round_trip(int out, int in, uint32_t counter)
{
    uint32_t back;
    write_counter(out, counter);
    if (!read_counter(in, &back))
    {
        fprintf(stderr, "pipe: the child closed its pipe\n");
        exit(1);
    }
    if (back != counter)
    {
        fprintf(stderr, "pipe: sent %u, got back %u\n", counter, back);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4)
    {
        fprintf(stderr, "usage: %s WARMUP OPS SECONDS\n", argv[0]);
        return 2;
    }
    const long warmup = atol(argv[1]);
    const long ops = atol(argv[2]);
    const double seconds = atof(argv[3]);
    if (warmup < 0 || ops < 0 || (ops == 0 && !(seconds > 0)))
    {
        fprintf(stderr, "pipe: WARMUP and OPS must be >= 0, and SECONDS > 0 when OPS is 0\n");
        return 2;
    }
    int down[2];
    int up[2];
    if (pipe(down) != 0 || pipe(up) != 0)
    {
        die("pipe");
    }
    fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0)
    {
        die("fork");
    }
    if (pid == 0)
    {
        /* Child: echo every counter until the parent closes its end. */
        close(down[1]);
        close(up[0]);
        uint32_t counter;
        while (read_counter(down[0], &counter))
        {
            write_counter(up[1], counter);
        }
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    uint32_t counter = 0;
    for (long i = 0; i < warmup; i++)
    {
        round_trip(down[1], up[0], counter++);
    }
    long done = 0;
    const double start = now_s();
    double elapsed = 0;
    while (ops > 0 ? done < ops : elapsed < seconds)
    {
        round_trip(down[1], up[0], counter++);
        done++;
        /* Reading the clock every round trip would add a measurable share; every 64th is enough. */
        if (ops == 0 && (done & 63) == 0)
        {
            elapsed = now_s() - start;
        }
    }
    elapsed = now_s() - start;
    close(down[1]);
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
        fprintf(stderr, "pipe: child ended with wait status 0x%x\n", status);
        return 1;
    }
    printf("ops %ld\n", done);
    printf("seconds %.6f\n", elapsed);
    printf("ops_per_sec %.1f\n", done / elapsed);
    return fflush(stdout) == 0 ? 0 : 1;
}
