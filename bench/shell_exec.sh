#!/usr/bin/env bash
# Shell executor benchmark: how much a job costs when parx runs the
# command itself instead of handing it to `bash -c`.
#
#   bench/shell_exec.sh [N]     (default N = 5000)
#
# 1. Parse time of typical job commands.
# 2. N sequential runs of `echo hello | tr a-z A-Z` through the executor.
# 3. The same N runs through `bash -c` (same spawning machinery).
# 4. A small C program doing the minimum for the same job: a pipe, the
#    bytes written into it, one posix_spawn of tr, one waitpid.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000}
cargo build --release --quiet --example parx-test-shell-run
run=target/release/examples/parx-test-shell-run
CMD='echo hello | tr a-z A-Z'

echo "== parse (1,000,000 parses each)"
for c in "gzip -k 'file name.txt'" "echo a | tr a-z A-Z" \
         "convert 'in put.png' -resize 50% out.jpg && echo done > log 2>&1"; do
  printf '%-70s ' "$c"
  "$run" -n 1000000 --parse-only "$c" 2>&1
done

t() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }

echo "== $N x '$CMD'"
ms_parx=$(t "$run" -n "$N" --quiet "$CMD" 2>/dev/null)
ms_bash=$(t "$run" -n "$N" --quiet --via-shell "$CMD" 2>/dev/null)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/spawn.c" <<'C'
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>
extern char **environ;
int main(int argc, char **argv) {
    int n = atoi(argv[1]);
    char *args[] = {"tr", "a-z", "A-Z", NULL};
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    for (int i = 0; i < n; i++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC)) return 1;
        if (write(p[1], "hello\n", 6) != 6) return 1;
        close(p[1]);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[0], 0);
        posix_spawn_file_actions_adddup2(&fa, devnull, 1);
        pid_t pid;
        if (posix_spawn(&pid, "/usr/bin/tr", &fa, NULL, args, environ)) return 1;
        posix_spawn_file_actions_destroy(&fa);
        close(p[0]);
        int st;
        waitpid(pid, &st, 0);
    }
    return 0;
}
C
if cc -O2 -o "$tmp/spawn" "$tmp/spawn.c" 2>/dev/null; then
  ms_c=$(t "$tmp/spawn" "$N")
else
  ms_c=NA
fi

echo "parx executor : ${ms_parx} ms  ($(( ms_parx * 1000 / N )) us/job)"
echo "bash -c       : ${ms_bash} ms  ($(( ms_bash * 1000 / N )) us/job)"
echo "C posix_spawn : ${ms_c} ms"
awk -v a="$ms_bash" -v b="$ms_parx" -v c="$ms_c" 'BEGIN {
  printf "bash -c / parx = %.2fx faster\n", a / b;
  if (c != "NA") printf "parx / C       = %.2fx (1.00 = as cheap as the minimal C program)\n", b / c }'
