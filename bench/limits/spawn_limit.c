/*
 * spawn_limit: the raw spawn+wait limit of this machine, the anchor that
 * parx's spawn-true scenario is compared with.
 *
 * Runs N jobs of PROGRAM (default /bin/true), each given one argument (its
 * sequence number, as parx/xargs/GNU parallel pass one input), keeping
 * INFLIGHT of them running at once: posix_spawn, then wait for any child and
 * start the next. No shell, no output capture, no bookkeeping: nothing a real
 * job runner can skip, so a runner can approach this rate but not beat it.
 *
 * usage: spawn_limit N [INFLIGHT=2] [PROGRAM=/bin/true]
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s N [INFLIGHT] [PROGRAM]\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    long inflight = argc > 2 ? strtol(argv[2], NULL, 10) : 2;
    char *prog = argc > 3 ? argv[3] : "/bin/true";
    if (n < 0 || inflight < 1) {
        fprintf(stderr, "spawn_limit: N must be >= 0 and INFLIGHT >= 1\n");
        return 2;
    }
    long started = 0, running = 0, failed = 0;
    char seq[32];
    while (started < n || running > 0) {
        while (started < n && running < inflight) {
            snprintf(seq, sizeof seq, "%ld", started + 1);
            char *args[] = {prog, seq, NULL};
            pid_t pid;
            int rc = posix_spawn(&pid, prog, NULL, NULL, args, environ);
            if (rc != 0) {
                errno = rc;
                perror("posix_spawn");
                return 1;
            }
            started++;
            running++;
        }
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            perror("wait");
            return 1;
        }
        running--;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    return failed ? 1 : 0;
}
