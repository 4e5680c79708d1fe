/*
 * spawn.c: the Linux side of `ufork bench spawn` and of the demo's fork rows (Unixbench Spawn's loop).
 *
 * Built and run by dev.ufork.apps.NativeBaseline (cc -O2) from the apps jar. It does what the ufork side does:
 * fork(2), the child _exit(0)s at once, the parent waitpid(2)s for it; WARMUP times untimed, then OPS times (or, with
 * OPS 0, for SECONDS). With RESIDENT_BYTES > 0 the process first writes every page of that much private anonymous
 * memory (4 KiB pages), so each fork also has that many bytes of page tables to copy, as a µprocess of that size has
 * an area.
 *
 * usage: spawn WARMUP OPS SECONDS RESIDENT_BYTES
 *
 * Output on stdout, one "key value" per line:
 *   ops N               forks measured
 *   seconds S           their wall time (CLOCK_MONOTONIC)
 *   ops_per_sec R       N / S: fork + exit + wait per second
 *   fork_us_median M    the median time from just before fork() to its return in the parent, in µs
 * Errors go to stderr with exit status 1; bad arguments exit with status 2.
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

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "spawn: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One fork + _exit(0) + waitpid; returns the seconds fork() took to return in the parent. */
static double spawn_once(void)
{
    const double start = now_s();
    const pid_t pid = fork();
    if (pid < 0)
    {
        die("fork");
    }
    if (pid == 0)
    {
        _exit(0);
    }
    const double forked = now_s() - start;
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
        fprintf(stderr, "spawn: child %d ended with wait status 0x%x\n", (int)pid, status);
        exit(1);
    }
    return forked;
}

int main(int argc, char **argv)
{
    if (argc != 5)
    {
        fprintf(stderr, "usage: %s WARMUP OPS SECONDS RESIDENT_BYTES\n", argv[0]);
        return 2;
    }
    const long warmup = atol(argv[1]);
    const long ops = atol(argv[2]);
    const double seconds = atof(argv[3]);
    const long resident = atol(argv[4]);
    if (warmup < 0 || ops < 0 || resident < 0 || (ops == 0 && !(seconds > 0)))
    {
        fprintf(stderr, "spawn: WARMUP, OPS and RESIDENT_BYTES must be >= 0, and SECONDS > 0 when OPS is 0\n");
        return 2;
    }
    /* Room for every latency: OPS of them, or a generous bound for a timed run (grown if needed). */
    long capacity = ops > 0 ? ops : 1 << 16;
    double *latencies = malloc((size_t)capacity * sizeof *latencies);
    if (latencies == NULL)
    {
        die("malloc");
    }
    if (resident > 0)
    {
        char *mem = mmap(NULL, (size_t)resident, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
        {
            die("mmap");
        }
        madvise(mem, (size_t)resident, MADV_NOHUGEPAGE); /* best effort: 4 KiB pages, as a µprocess's */
        memset(mem, 0x5a, (size_t)resident);
    }
    /* Nothing may sit in stdio's buffer at a fork. */
    fflush(stdout);
    for (long i = 0; i < warmup; i++)
    {
        spawn_once();
    }
    long done = 0;
    const double start = now_s();
    double elapsed = 0;
    while (ops > 0 ? done < ops : elapsed < seconds)
    {
        if (done == capacity)
        {
            capacity *= 2;
            latencies = realloc(latencies, (size_t)capacity * sizeof *latencies);
            if (latencies == NULL)
            {
                die("realloc");
            }
        }
        latencies[done++] = spawn_once();
        elapsed = now_s() - start;
    }
    qsort(latencies, (size_t)done, sizeof *latencies, compare_doubles);
    const double median = done % 2 == 1 ? latencies[done / 2]
        : (latencies[done / 2 - 1] + latencies[done / 2]) / 2;
    printf("ops %ld\n", done);
    printf("seconds %.6f\n", elapsed);
    printf("ops_per_sec %.1f\n", done / elapsed);
    printf("fork_us_median %.3f\n", median * 1e6);
    free(latencies);
    return fflush(stdout) == 0 ? 0 : 1;
}
