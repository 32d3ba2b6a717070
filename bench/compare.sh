#!/usr/bin/env bash
# bench/compare.sh — parx side by side with GNU parallel, xargs (and
# optionally rust-parallel) and the machine's raw limits, in ONE run, as ratios.
#
# Every scenario runs each tool on the same prepared input. hyperfine times
# single runs; this script alternates the tools itself (hyperfine runs all
# runs of one command before the next, so a burst of load from elsewhere would
# land on one tool only): round r runs the tools in an order rotated by r.
# The median of the rounds is reported. Max RSS comes from /usr/bin/time.
#
# Output: one table, then one machine-readable line per scenario:
#   scenario=<name> parx=<median s> <peer>=<median s> ... ratio_vs_<peer>=<x> ...
# ratio_vs_<peer> = peer's time / parx's time for the same work (higher = parx
# better). A scenario whose parx feature is missing prints
#   scenario=<name> skipped: parx lacks <feature>
#
# usage: bench/compare.sh [--quick] [--with-rust-parallel] [--runs N]
#                         [--only s1,s2,...] [--no-build] [--keep-tmp]
#                         [--parx PATH]   (time another binary as "parx",
#                                          e.g. to test this script itself)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
QUICK=0 WITH_RP=0 RUNS= ONLY= BUILD=1 KEEP=0 PARX=$ROOT/target/release/parx

usage() { sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; }
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --with-rust-parallel) WITH_RP=1 ;;
    --runs) RUNS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --no-build) BUILD=0 ;;
    --keep-tmp) KEEP=1 ;;
    --parx) PARX=$(command -v "$2" || echo "$2") BUILD=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

ALL_SCENARIOS="spawn-true echo-output pipeline-job keep-order big-output pipe-cat pipe-gzip pipepart-gzip dry-run-10M perl-dry-run perl-jobs mem-spawn-true mem-keep-order pool-map sql-sqlite sql-pg remote-true remote-trc"
if [[ -n $ONLY ]]; then
  for s in ${ONLY//,/ }; do
    [[ " $ALL_SCENARIOS " == *" $s "* ]] || { echo "compare.sh: unknown scenario $s (one of: $ALL_SCENARIOS)" >&2; exit 2; }
  done
fi
wanted() { [[ -z $ONLY || ",$ONLY," == *",$1,"* ]]; }

# Sizes. The default run is what issue 8 specifies; --quick is the same set of
# scenarios at a size that finishes in about two minutes on an idle 2-core box.
if ((QUICK)); then
  NJOBS=500 KJOBS=300 BIG=32M PIPE_MIB=64 DRY_N=1000000 DRY_GNU_N=1000
  MEM_N=20000 MEM_K=2000 RUNS_SMALL=${RUNS:-3} RUNS_BIG=${RUNS:-3}
  PERL_N=100000 PERL_GNU_N=1000 PERL_JOBS=500
  SQL_N=1000 SQL_GNU_N=100
  REMOTE_N=200 TRC_N=50 RUNS_REMOTE=${RUNS:-1}
else
  NJOBS=5000 KJOBS=2000 BIG=256M PIPE_MIB=1024 DRY_N=10000000 DRY_GNU_N=10000
  MEM_N=100000 MEM_K=10000 RUNS_SMALL=${RUNS:-5} RUNS_BIG=${RUNS:-3}
  PERL_N=100000 PERL_GNU_N=10000 PERL_JOBS=2000
  SQL_N=10000 SQL_GNU_N=300
  REMOTE_N=1000 TRC_N=200 RUNS_REMOTE=${RUNS:-3}
fi

log() { printf '%s\n' "compare.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# --- tools -------------------------------------------------------------------
install_missing() {
  local need=()
  command -v parallel >/dev/null || need+=(parallel)
  command -v hyperfine >/dev/null || need+=(hyperfine)
  [[ -x /usr/bin/time ]] || need+=(time)
  command -v gcc >/dev/null || need+=(gcc)
  # The SQL queue scenarios: a PostgreSQL server, and GNU parallel's DBI
  # drivers for it and for SQLite.
  if wanted sql-sqlite || wanted sql-pg; then
    command -v sqlite3 >/dev/null || need+=(sqlite3)
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
    perl -MDBD::Pg -e1 2>/dev/null || need+=(libdbd-pg-perl)
    perl -MDBD::SQLite -e1 2>/dev/null || need+=(libdbd-sqlite3-perl)
  fi
  if ((${#need[@]})); then
    log "installing ${need[*]}"
    command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get: install them"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  # GNU parallel prints a citation notice unless this file exists.
  mkdir -p "$HOME/.parallel" && touch "$HOME/.parallel/will-cite"
}
install_missing

RP=
if ((WITH_RP)); then
  RP=$HERE/.tools/bin/rust-parallel
  if [[ ! -x $RP ]]; then
    log "installing rust-parallel into bench/.tools"
    cargo install --quiet rust-parallel --root "$HERE/.tools" || die "cargo install rust-parallel failed"
  fi
fi

if ((BUILD)); then
  log "building parx (release)"
  (cd "$ROOT" && cargo build --quiet --release --bin parx) || die "cargo build --release failed"
fi
[[ -x $PARX ]] || die "no $PARX (build it, or drop --no-build)"

# Under target/ rather than /tmp: test suites running on the same machine
# clean up /tmp/parx-* behind themselves.
mkdir -p "$ROOT/target"
T=$(mktemp -d "$ROOT/target/compare-data.XXXXXX")
PG_DIR=
cleanup() {
  if [[ -n $PG_DIR ]]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
  if ((KEEP)); then log "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
mkdir -p "$T/times" "$T/tmp"
# Every tool buffers (GNU parallel's --group files, parx's spill files) here.
export TMPDIR=$T/tmp

LIMIT=$T/spawn_limit
gcc -O2 -Wall -o "$LIMIT" "$HERE/limits/spawn_limit.c" || die "gcc failed on bench/limits/spawn_limit.c"

# --- parx feature probes -------------------------------------------------------
# A probe passes when parx produces the exact expected output. Scenarios whose
# feature is missing are reported as skipped, not failed.
probe() { # probe EXPECTED CMD...
  local want=$1 got
  shift
  got=$(timeout 20 "$@" 2>/dev/null </dev/null) || return 1
  [[ $got == "$want" ]]
}
probe_stdin() { # probe_stdin INPUT EXPECTED CMD...
  local input=$1 want=$2 got
  shift 2
  got=$(printf '%s' "$input" | timeout 20 "$@" 2>/dev/null) || return 1
  [[ $got == "$want" ]]
}
declare -A HAS
printf 'l1\nl2\nl3\nl4\n' >"$T/probe.txt"
probe $'a\nb' "$PARX" -k -j2 echo ::: a b && HAS[cli]=1
probe_stdin $'x\ny\n' $'x\ny' "$PARX" -k -j2 echo && HAS[stdin]=1
probe $'3\n1\n2' "$PARX" -k -j2 echo ::: 3 1 2 && HAS[keep]=1
probe $'AB\nCD' "$PARX" -k -j2 'echo {} | tr a-z A-Z' ::: ab cd && HAS[pipeline]=1
probe 'echo a' "$PARX" --dry-run echo ::: a && HAS[dryrun]=1
probe_stdin $'l1\nl2\nl3\nl4\n' $'l1\nl2\nl3\nl4' "$PARX" --pipe --block 3 -k -j2 cat && HAS[pipe]=1
probe $'l1\nl2\nl3\nl4' "$PARX" --pipepart -a "$T/probe.txt" --block 3 -k -j2 cat && HAS[pipepart]=1
probe $'/dev/null' "$PARX" -k -j2 echo {} ::: /dev/null && HAS[replace]=1
probe 'echo 4' "$PARX" --dry-run echo '{= $_*=2 =}' ::: 2 && HAS[perl]=1
log "parx has: ${!HAS[*]}"
# Does parx run `a | b` without a shell? (informational: read from --trace)
SHELL_NOTE=
if [[ ${HAS[pipeline]:-} ]]; then
  if "$PARX" --trace -j1 'echo {} | tr a-z A-Z' ::: ab 2>&1 >/dev/null | grep -Eq '(^|[ :/])(ba|da)?sh( |$)'; then
    SHELL_NOTE="parx ran it through a shell"
  else
    SHELL_NOTE="parx ran it without a shell"
  fi
fi

# --- data ------------------------------------------------------------------
seq "$NJOBS" >"$T/in.jobs"
sed 's/^/job-/' "$T/in.jobs" >"$T/in.words"
tr a-z A-Z <"$T/in.words" | sort >"$T/want.upper"
seq "$KJOBS" >"$T/in.keep"
printf '/dev/zero\n%.0s' 1 2 3 4 >"$T/in.zero"
BIG_BYTES=$(numfmt --from=iec "$BIG")

# ~100-byte log lines (timestamps, hosts, paths, numbers: text that gzip
# compresses about 3.5:1, as real logs): an 8 MiB chunk made by awk,
# repeated (gzip's 32 KiB window never sees the repetition).
make_lines_file() { # make_lines_file PATH MIB
  local chunk=$T/chunk.txt i reps
  [[ -e $chunk ]] || awk 'BEGIN {
    srand(7); m[0] = "GET"; m[1] = "POST"; m[2] = "PUT"
    s[0] = 200; s[1] = 200; s[2] = 304; s[3] = 404; s[4] = 500
    for (i = 0; i < 84000; i++)
      printf "2026-11-25T%02d:%02d:%02d.%06dZ host-%02d %s /api/v1/items/%07d?page=%d status=%d bytes=%d ms=%.3f\n",
        int(i / 3600) % 24, int(i / 60) % 60, i % 60, int(rand() * 1e6), int(rand() * 40), m[int(rand() * 3)],
        int(rand() * 1e7), int(rand() * 50), s[int(rand() * 5)], int(rand() * 100000), rand() * 250
  }' >"$chunk"
  reps=$(($2 * 1048576 / $(stat -c %s "$chunk")))
  ((reps >= 1)) || reps=1
  for ((i = 0; i < reps; i++)); do cat "$chunk"; done >"$1"
}
need_pipe_file() {
  [[ -e $T/lines.txt ]] && return
  log "writing a ${PIPE_MIB} MiB file of 100-byte lines"
  make_lines_file "$T/lines.txt" "$PIPE_MIB"
  head -n 40000 "$T/chunk.txt" >"$T/check.txt"
  PIPE_BYTES=$(stat -c %s "$T/lines.txt")
}

# --- timing ------------------------------------------------------------------
declare -A MED CPU MIN AMOUNT FAILED
declare -a LINES=() ROWS=()

# time_one NAME CMD: one run under hyperfine; prints "wall_s cpu_s".
time_one() {
  local csv=$T/hf.csv
  rm -f "$csv"
  hyperfine --runs 1 --warmup 0 --style none --export-csv "$csv" -n "$1" "$2" >"$T/hf.log" 2>&1 || return 1
  awk -F, 'NR == 2 { printf "%s %.3f\n", $2, $5 + $6 }' "$csv"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# bench SCENARIO RUNS name1 cmd1 [name2 cmd2 ...]: alternate the tools over
# RUNS rounds, record MED/MIN/CPU[scenario.name].
bench() {
  local scen=$1 runs=$2 r k i out
  shift 2
  local names=() cmds=()
  while (($#)); do names+=("$1") cmds+=("$2"); shift 2; done
  local n=${#names[@]}
  for ((r = 0; r < runs; r++)); do
    for ((k = 0; k < n; k++)); do
      i=$(((k + r) % n))
      [[ ${FAILED[$scen.${names[i]}]:-} ]] && continue
      if out=$(time_one "${names[i]}" "${cmds[i]}"); then
        echo "$out" >>"$T/times/$scen.${names[i]}"
      else
        FAILED[$scen.${names[i]}]=1
        log "$scen: ${names[i]} failed: ${cmds[i]}"
        tail -n 3 "$T/hf.log" | sed 's/^/    /' >&2
      fi
    done
    log "$scen: round $((r + 1))/$runs done"
  done
  for name in "${names[@]}"; do
    local f=$T/times/$scen.$name
    [[ -s $f ]] || continue
    MED[$scen.$name]=$(cut -d' ' -f1 "$f" | median)
    MIN[$scen.$name]=$(cut -d' ' -f1 "$f" | sort -g | head -n1)
    CPU[$scen.$name]=$(cut -d' ' -f2 "$f" | median)
  done
}

fmt() { awk -v x="$1" 'BEGIN { if (x >= 100) printf "%.1f", x; else if (x >= 1) printf "%.3f", x; else printf "%.4f", x }'; }

# report SCENARIO UNIT NOTE name1 [name2 ...]: first name is parx. UNIT is
# "jobs" or "MB" (amounts in AMOUNT[scenario.name], default AMOUNT[scenario]).
report() {
  local scen=$1 unit=$2 note=$3 name
  shift 3
  local line="scenario=$scen" ratios="" pm=${MED[$scen.parx]:-}
  if [[ -z $pm ]]; then
    LINES+=("scenario=$scen failed: parx did not complete (see the log above)")
    return
  fi
  for name in "$@"; do
    local m=${MED[$scen.$name]:-}
    if [[ -z $m ]]; then
      line+=" $name=failed"
      continue
    fi
    line+=" $name=$(fmt "$m")"
    local amt=${AMOUNT[$scen.$name]:-${AMOUNT[$scen]}} pamt=${AMOUNT[$scen.parx]:-${AMOUNT[$scen]}}
    local rate ratio rel
    rate=$(awk -v a="$amt" -v m="$m" 'BEGIN { r = a / m; printf(r >= 100 ? "%.0f" : "%.1f", r) }')
    # ratio = parx's rate / peer's rate (= peer's time / parx's time for equal work)
    ratio=$(awk -v a="$amt" -v m="$m" -v pa="$pamt" -v pm="$pm" 'BEGIN { printf "%.2f", (pa / pm) / (a / m) }')
    if [[ $name == parx ]]; then rel="-"; else
      rel="parx x$ratio"
      ratios+=" ratio_vs_$name=$ratio"
    fi
    ROWS+=("$(printf '%-15s %-14s %9s %9s %8s %15s  %s' "$scen" "$name" "$(fmt "$m")" "$(fmt "${MIN[$scen.$name]}")" \
      "$(fmt "${CPU[$scen.$name]}")" "$rate $unit/s" "$rel")")
  done
  line+="$ratios unit=s"
  for name in "$@"; do
    [[ -n ${AMOUNT[$scen.$name]:-} ]] && line+=" n_$name=${AMOUNT[$scen.$name]}"
  done
  [[ -n ${AMOUNT[$scen]:-} ]] && line+=" n=${AMOUNT[$scen]}"
  [[ -n $note ]] && ROWS+=("$(printf '%-15s   (%s)' "$scen" "$note")")
  LINES+=("$line")
}

skip() { # skip SCENARIO REASON
  LINES+=("scenario=$1 skipped: $2")
  ROWS+=("$(printf '%-15s skipped: %s' "$1" "$2")")
  log "$1 skipped: $2"
}

# needs SCENARIO FEATURE...: skip the scenario unless parx has every feature.
needs() {
  local scen=$1 f
  shift
  for f in "$@"; do
    if [[ -z ${HAS[$f]:-} ]]; then
      local what
      case $f in
        cli) what="the GNU parallel command line (-j, :::)" ;;
        stdin) what="arguments from stdin" ;;
        keep) what="-k" ;;
        pipeline) what="running 'a | b' jobs" ;;
        dryrun) what="--dry-run" ;;
        pipe) what="--pipe" ;;
        pipepart) what="--pipepart" ;;
        replace) what="{} replacement" ;;
        perl) what="{= perl =} expressions" ;;
        *) what=$f ;;
      esac
      skip "$scen" "parx lacks $what"
      return 1
    fi
  done
}

# check_file SCENARIO NAME FILE WANT [sort]: after timing, the tool's last
# output must equal WANT (optionally after sort); otherwise its result is void.
check_file() {
  local scen=$1 name=$2 f=$3 want=$4
  [[ -n ${MED[$scen.$name]:-} ]] || return 0
  if [[ ${5:-} == sort ]]; then sort "$f" | cmp -s - "$want" && return 0; else cmp -s "$f" "$want" && return 0; fi
  log "$scen: $name produced wrong output ($f vs $want); its time is not reported"
  unset "MED[$scen.$name]"
  FAILED[$scen.$name]=1
}

rss_of() { # rss_of CMD (sh string): prints the max RSS in KB of the command's processes
  /usr/bin/time -f %M -o "$T/rss" sh -c "$1" >/dev/null 2>"$T/rss.err" || {
    log "failed: $1"
    sed 's/^/    /' "$T/rss.err" | tail -n 3 >&2
    return 1
  }
  tail -n 1 "$T/rss"
}

GNU=parallel
peer_args=() # extra name/command pairs for rust-parallel, set per scenario

# --- scenarios -----------------------------------------------------------------
q() { printf '%q' "$1"; }

# /bin/true, not true: parx runs the `true` builtin without any process, so
# only an explicit path measures spawning (the same program for every tool).
sc_spawn_true() {
  needs spawn-true cli stdin || return 0
  AMOUNT[spawn-true]=$NJOBS
  local in
  in=$(q "$T/in.jobs")
  peer_args=()
  [[ -n $RP ]] && peer_args=(rust_parallel "$RP -j2 /bin/true < $in")
  bench spawn-true "$RUNS_SMALL" \
    parx "$PARX -j2 /bin/true < $in" \
    gnu "$GNU -j2 /bin/true < $in" \
    xargs "xargs -P2 -n1 /bin/true < $in" \
    limit "$LIMIT $NJOBS 2 /bin/true" \
    "${peer_args[@]}"
  report spawn-true jobs "/bin/true per job; limit = bench/limits/spawn_limit.c: posix_spawn+wait, 2 in flight" \
    parx gnu xargs limit ${RP:+rust_parallel}
}

sc_echo_output() {
  needs echo-output cli stdin || return 0
  AMOUNT[echo-output]=$NJOBS
  local in; in=$(q "$T/in.jobs")
  peer_args=()
  [[ -n $RP ]] && peer_args=(rust_parallel "$RP -j2 echo < $in > $T/out.echo.rust_parallel")
  bench echo-output "$RUNS_SMALL" \
    parx "$PARX -j2 echo < $in > $T/out.echo.parx" \
    gnu "$GNU -j2 echo < $in > $T/out.echo.gnu" \
    xargs "xargs -P2 -n1 echo < $in > $T/out.echo.xargs" \
    "${peer_args[@]}"
  sort "$T/in.jobs" >"$T/want.echo"
  for n in parx gnu xargs ${RP:+rust_parallel}; do check_file echo-output $n "$T/out.echo.$n" "$T/want.echo" sort; done
  report echo-output jobs "" parx gnu xargs ${RP:+rust_parallel}
}

sc_pipeline_job() {
  needs pipeline-job cli stdin pipeline || return 0
  AMOUNT[pipeline-job]=$NJOBS
  local in; in=$(q "$T/in.words")
  peer_args=()
  [[ -n $RP ]] && peer_args=(rust_parallel "$RP -j2 -r '.*' -s 'echo {0} | tr a-z A-Z' < $in > $T/out.pl.rust_parallel")
  bench pipeline-job "$RUNS_SMALL" \
    parx "$PARX -j2 'echo {} | tr a-z A-Z' < $in > $T/out.pl.parx" \
    gnu "$GNU -j2 'echo {} | tr a-z A-Z' < $in > $T/out.pl.gnu" \
    xargs "xargs -P2 -I{} sh -c 'echo {} | tr a-z A-Z' < $in > $T/out.pl.xargs" \
    "${peer_args[@]}"
  for n in parx gnu xargs ${RP:+rust_parallel}; do check_file pipeline-job $n "$T/out.pl.$n" "$T/want.upper" sort; done
  report pipeline-job jobs "$SHELL_NOTE" parx gnu xargs ${RP:+rust_parallel}
}

# bash, not sh: dash (Debian's sh) has no $RANDOM, so every sleep would be 0.
KEEP_CMD='bash -c '\''sleep 0.00$((RANDOM%5)); echo {}'\'
sc_keep_order() {
  needs keep-order cli stdin keep || return 0
  AMOUNT[keep-order]=$KJOBS
  local in cmd
  in=$(q "$T/in.keep")
  cmd=$(q "$KEEP_CMD")
  peer_args=()
  [[ -n $RP ]] && peer_args=(rust_parallel "$RP -k -j2 -r '.*' -s $(q "${KEEP_CMD/\{\}/\{0\}}") < $in > $T/out.keep.rust_parallel")
  bench keep-order "$RUNS_SMALL" \
    parx "$PARX -k -j2 $cmd < $in > $T/out.keep.parx" \
    gnu "$GNU -k -j2 $cmd < $in > $T/out.keep.gnu" \
    "${peer_args[@]}"
  for n in parx gnu ${RP:+rust_parallel}; do check_file keep-order $n "$T/out.keep.$n" "$T/in.keep"; done
  report keep-order jobs "each job: $KEEP_CMD" parx gnu ${RP:+rust_parallel}
}

sc_big_output() {
  needs big-output cli stdin || return 0
  AMOUNT[big-output]=$((4 * BIG_BYTES / 1000000))
  local in got
  in=$(q "$T/in.zero")
  got=$("$PARX" -j2 head -c "$BIG" <"$T/in.zero" | wc -c)
  if [[ $got != $((4 * BIG_BYTES)) ]]; then
    skip big-output "parx wrote $got bytes, not $((4 * BIG_BYTES))"
    return 0
  fi
  peer_args=()
  [[ -n $RP ]] && peer_args=(rust_parallel "$RP -j2 head -c $BIG < $in > /dev/null")
  bench big-output "$RUNS_BIG" \
    parx "$PARX -j2 head -c $BIG < $in > /dev/null" \
    gnu "$GNU -j2 head -c $BIG < $in > /dev/null" \
    xargs "xargs -P2 -n1 head -c $BIG < $in | cat > /dev/null" \
    "${peer_args[@]}"
  report big-output MB "4 jobs x head -c $BIG /dev/zero, -j2, grouped (xargs: ungrouped, through one pipe to cat, for scale)" \
    parx gnu xargs ${RP:+rust_parallel}
}

sc_pipe() { # sc_pipe SCENARIO: pipe-cat | pipe-gzip | pipepart-gzip
  local scen=$1 feature=pipe
  [[ $scen == pipepart-* ]] && feature=pipepart
  needs "$scen" cli $feature || return 0
  need_pipe_file
  AMOUNT[$scen]=$((PIPE_BYTES / 1000000))
  local f c
  f=$(q "$T/lines.txt")
  c=$(q "$T/check.txt")
  local opts job base_name base_cmd parx_cmd gnu_cmd check_cmd
  case $scen in
    pipe-cat) opts="--pipe --block 1M" job=cat base_name=cat_cat base_cmd="cat $f | cat > /dev/null" ;;
    pipe-gzip) opts="--pipe --block 4M" job="gzip -1" base_name=gzip1 base_cmd="gzip -1 < $f > /dev/null" ;;
    pipepart-gzip) opts="--pipepart --block 4M" job="gzip -1" base_name=gzip1 base_cmd="gzip -1 < $f > /dev/null" ;;
  esac
  if [[ $feature == pipepart ]]; then
    parx_cmd="$PARX $opts -a $f -j2 $job > /dev/null"
    gnu_cmd="$GNU $opts -a $f -j2 $job > /dev/null"
    check_cmd="$PARX $opts -a $c -k -j2 $job"
  else
    parx_cmd="$PARX $opts -j2 $job < $f > /dev/null"
    gnu_cmd="$GNU $opts -j2 $job < $f > /dev/null"
    check_cmd="$PARX $opts -k -j2 $job < $c"
  fi
  # Correctness first, on a 4 MiB file: -k output must reproduce the input.
  [[ $job == cat ]] || check_cmd+=" | gzip -dc"
  if ! sh -c "$check_cmd" 2>/dev/null | cmp -s - "$T/check.txt"; then
    skip "$scen" "parx output differs from the input ($check_cmd)"
    return 0
  fi
  peer_args=()
  if [[ -n $RP && $feature == pipe ]]; then
    peer_args=(rust_parallel "$RP --pipe --block-size ${opts##* }iB -j2 $job < $f > /dev/null")
  fi
  bench "$scen" "$RUNS_BIG" parx "$parx_cmd" gnu "$gnu_cmd" "$base_name" "$base_cmd" "${peer_args[@]}"
  local names=(parx gnu "$base_name")
  [[ ${#peer_args[@]} -gt 0 ]] && names+=(rust_parallel)
  report "$scen" MB "$opts -j2 $job on ${PIPE_MIB} MiB of 100-byte lines; $base_name = no runner" "${names[@]}"
}

sc_dry_run() {
  needs dry-run-10M dryrun stdin || return 0
  AMOUNT[dry-run-10M.parx]=$DRY_N
  AMOUNT[dry-run-10M.gnu]=$DRY_GNU_N
  AMOUNT[dry-run-10M]=
  bench dry-run-10M "$RUNS_BIG" \
    parx "seq $DRY_N | $PARX --dry-run echo > /dev/null" \
    gnu "seq $DRY_GNU_N | $GNU --dry-run echo > /dev/null"
  report dry-run-10M inputs "GNU parallel runs ${DRY_GNU_N} inputs only (its dry run manages ~100-500/s); the ratio compares rates" parx gnu
  local pr gr
  pr=$(rss_of "seq $DRY_N | $PARX --dry-run echo") || pr=failed
  gr=$(rss_of "seq $DRY_GNU_N | $GNU --dry-run echo") || gr=failed
  LINES[-1]+=" parx_maxrss_kb=$pr gnu_maxrss_kb=$gr"
  ROWS+=("$(printf '%-15s   max RSS: parx %s KB (%s inputs), gnu %s KB (%s inputs)' dry-run-10M "$pr" "$DRY_N" "$gr" "$DRY_GNU_N")")
}

# Issue 15: {= perl =} through one perl co-process. Expressions per second
# in a dry run (and memory flat in the number of jobs), and the cost of an
# expression in real jobs.
PERL_EXPR='{= $_*=2 =}'
sc_perl_dry_run() {
  needs perl-dry-run dryrun stdin perl || return 0
  AMOUNT[perl-dry-run.parx]=$PERL_N
  AMOUNT[perl-dry-run.gnu]=$PERL_GNU_N
  AMOUNT[perl-dry-run]=
  seq "$PERL_N" >"$T/in.perl"
  seq "$PERL_GNU_N" >"$T/in.perl.gnu"
  local e; e=$(q "$PERL_EXPR")
  bench perl-dry-run "$RUNS_BIG" \
    parx "$PARX --dry-run echo $e < $T/in.perl > $T/out.perl.parx" \
    gnu "$GNU --dry-run echo $e < $T/in.perl.gnu > /dev/null"
  awk '{ print "echo " $1 * 2 }' "$T/in.perl" >"$T/want.perl"
  check_file perl-dry-run parx "$T/out.perl.parx" "$T/want.perl"
  report perl-dry-run exprs "echo '$PERL_EXPR'; GNU parallel runs ${PERL_GNU_N} inputs only; the ratio compares rates" parx gnu
  local small=$((PERL_N / 10)) a b growth
  a=$(rss_of "seq $small | $PARX --dry-run echo $e") || a=
  b=$(rss_of "seq $PERL_N | $PARX --dry-run echo $e") || b=
  [[ -n $a && -n $b ]] && growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')
  local rate; rate=$(awk -v n="$PERL_N" -v m="${MED[perl-dry-run.parx]:-0}" 'BEGIN { if (m > 0) printf "%.0f", n / m; else print "failed" }')
  LINES[-1]+=" parx_rate=$rate parx_maxrss_kb=${b:-failed} parx_maxrss_kb_at_$small=${a:-failed} growth=${growth:-failed}"
  ROWS+=("$(printf '%-15s   max RSS of parx (with its perl): %s KB at %s inputs, %s KB at %s (x%s)' perl-dry-run "${b:-?}" "$PERL_N" "${a:-?}" "$small" "${growth:-?}")")
}

sc_perl_jobs() {
  needs perl-jobs cli stdin perl || return 0
  AMOUNT[perl-jobs]=$PERL_JOBS
  seq "$PERL_JOBS" >"$T/in.perljobs"
  local e in; e=$(q "$PERL_EXPR"); in=$(q "$T/in.perljobs")
  bench perl-jobs "$RUNS_SMALL" \
    parx "$PARX -j2 /bin/true $e < $in" \
    parx_plain "$PARX -j2 /bin/true {} < $in" \
    gnu "$GNU -j2 /bin/true $e < $in"
  report perl-jobs jobs "/bin/true '$PERL_EXPR' per job; parx_plain = the same jobs with {} (no perl)" parx parx_plain gnu
}

sc_mem_spawn_true() {
  needs mem-spawn-true cli stdin || return 0
  local small=$((MEM_N / 10)) a b
  seq "$MEM_N" >"$T/in.mem"
  seq "$small" >"$T/in.mem.small"
  a=$(rss_of "$PARX -j2 /bin/true < $T/in.mem.small") || a=
  b=$(rss_of "$PARX -j2 /bin/true < $T/in.mem") || b=
  if [[ -z $a || -z $b ]]; then
    LINES+=("scenario=mem-spawn-true failed: parx did not complete")
    return 0
  fi
  local growth; growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')
  LINES+=("scenario=mem-spawn-true parx=$b unit=KB n=$MEM_N parx_at_$small=$a growth=$growth")
  ROWS+=("$(printf '%-15s   max RSS of parx -j2 /bin/true: %s KB at %s jobs, %s KB at %s jobs (x%s)' mem-spawn-true "$b" "$MEM_N" "$a" "$small" "$growth")")
}

sc_mem_keep_order() {
  needs mem-keep-order cli stdin keep replace || return 0
  # Job 1 holds its slot until every other job has run: -k must hold all of
  # their output (MEM_K - 1 jobs x 10 KB) behind it.
  cat >"$T/kjob.sh" <<'EOF'
#!/bin/sh
if [ "$1" = 1 ]; then
  i=0
  while [ ! -e "$3" ] && [ $i -lt 30000 ]; do sleep 0.01; i=$((i + 1)); done
else
  head -c 10240 /dev/zero
  [ "$1" = "$2" ] && : >"$3"
fi
exit 0
EOF
  chmod +x "$T/kjob.sh"
  seq "$MEM_K" >"$T/in.memk"
  rm -f "$T/kflag"
  local kb bytes
  bytes=$(/usr/bin/time -f %M -o "$T/rss" sh -c "$PARX -k -j2 $T/kjob.sh {} $MEM_K $T/kflag < $T/in.memk" | wc -c) || true
  kb=$(tail -n 1 "$T/rss" 2>/dev/null || echo failed)
  local want=$(((MEM_K - 1) * 10240))
  if [[ $bytes != "$want" ]]; then
    LINES+=("scenario=mem-keep-order failed: parx wrote $bytes bytes, not $want")
    return 0
  fi
  LINES+=("scenario=mem-keep-order parx=$kb unit=KB n=$MEM_K held_bytes=$want")
  ROWS+=("$(printf '%-15s   max RSS of parx -k with %s x 10 KB held behind one slow job: %s KB' mem-keep-order "$((MEM_K - 1))" "$kb")")
}

sc_pool_map() {
  if [[ ! -e $ROOT/benches/pool.rs ]]; then
    skip pool-map "no benches/pool.rs yet"
    return 0
  fi
  # benches/pool.rs --side-by-side: 2,000 items of ~1 ms, contenders run in
  # turn with rounds interleaved, best of ROUNDS; plus trivial items.
  local rounds=$RUNS_SMALL
  ((QUICK)) && rounds=2
  log "pool-map: cargo bench --bench pool -- --side-by-side (ROUNDS=$rounds)"
  if ! (cd "$ROOT" && ROUNDS=$rounds cargo bench --quiet --bench pool -- --side-by-side) >"$T/pool.out" 2>"$T/pool.err"; then
    tail -n 5 "$T/pool.err" >&2
    LINES+=("scenario=pool-map failed: cargo bench --bench pool -- --side-by-side")
    return 0
  fi
  local vals
  vals=$(awk '
    function before(word,   i) { for (i = 2; i <= NF; i++) if ($i == word) return $(i - 1); return "" }
    /^cpu-bound/ { sec = "cpu" } /^trivial/ { sec = "trivial" } /^distribution/ { sec = "" }
    sec == "cpu" && /^  sequential / { seq = before("ms") / 1000 }
    sec == "cpu" && /^  pool, 2 workers / { pool = before("ms") / 1000 }
    sec == "cpu" && /^  rayon, 2 threads / { rayon = before("ms") / 1000 }
    sec == "trivial" && /^  map, 2 workers / { triv = before("M") }
    END { if (pool > 0) print pool, seq, rayon, triv }' "$T/pool.out")
  if [[ -z $vals ]]; then
    LINES+=("scenario=pool-map failed: could not read the --side-by-side table")
    return 0
  fi
  local pool seqt rayon triv
  read -r pool seqt rayon triv <<<"$vals"
  local r_seq r_ray
  r_seq=$(awk -v a="$seqt" -v b="$pool" 'BEGIN { printf "%.2f", a / b }')
  r_ray=$(awk -v a="$rayon" -v b="$pool" 'BEGIN { printf "%.2f", a / b }')
  LINES+=("scenario=pool-map parx=$(fmt "$pool") sequential=$(fmt "$seqt") rayon=$(fmt "$rayon") ratio_vs_sequential=$r_seq ratio_vs_rayon=$r_ray unit=s n=2000 trivial_map_2_workers=${triv}M_items/s")
  ROWS+=("$(printf '%-15s %-14s %9s %30s' pool-map "parx (2 wk)" "$(fmt "$pool")" "-")")
  ROWS+=("$(printf '%-15s %-14s %9s %30s' pool-map sequential "$(fmt "$seqt")" "parx x$r_seq")")
  ROWS+=("$(printf '%-15s %-14s %9s %30s' pool-map "rayon (2 thr)" "$(fmt "$rayon")" "parx x$r_ray")")
  ROWS+=("$(printf '%-15s   (2,000 items of ~1 ms CPU, best of %s; trivial items: %s M/s with 2 workers)' pool-map "$rounds" "$triv")")
}

# A PostgreSQL server for the SQL scenarios: initdb into a temp dir, a unix
# socket there, as the postgres user (it refuses root); stopped at exit.
PG_BIN=
start_pg() {
  [[ -n $PG_DIR ]] && return 0
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -x $PG_BIN/initdb ]] || return 1
  PG_DIR=$(mktemp -d /tmp/parx-bench-pg.XXXXXX)
  chown postgres: "$PG_DIR"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U parx --no-sync >"$T/initdb.log" 2>&1 || return 1
  # Default durability (fsync on): what a real server does.
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
    -o "-k $PG_DIR -p 5432 -c listen_addresses=" start >/dev/null || return 1
}
pg_url() { echo "pg://parx@${PG_DIR//\//%2F}:5432/postgres/$1"; }
pg_count_ok() { "$PG_BIN/psql" -h "$PG_DIR" -U parx -d postgres -Atc "SELECT COUNT(*) FROM $1 WHERE Exitval = 0" 2>/dev/null; }

# sql_pipeline URL_MASTER URL_WORKER TOOL N: the master fills the table with
# N /bin/true jobs, then 2 workers (-j1 each) run them.
sql_pipeline() {
  local m=$1 w=$2 tool=$3 n=$4
  echo "seq $n > $T/in.sql.$n && $tool --sqlmaster $m /bin/true :::: $T/in.sql.$n && ($tool --sqlworker $w -j1 /bin/true > /dev/null & $tool --sqlworker $w -j1 /bin/true > /dev/null & wait)"
}

sc_sql() { # sc_sql sql-sqlite | sql-pg
  local scen=$1 pm pw gm gw check
  AMOUNT[$scen.parx]=$SQL_N
  AMOUNT[$scen.gnu]=$SQL_GNU_N
  AMOUNT[$scen]=
  if [[ $scen == sql-pg ]]; then
    start_pg || { skip sql-pg "no PostgreSQL server (see $T/initdb.log)"; return 0; }
    pm=$(pg_url px) gm=$(pg_url gx)
  else
    pm="sqlite3:///${T//\//%2F}%2Fpx.db/px" gm="sqlite3:///${T//\//%2F}%2Fgx.db/gx"
  fi
  pw=$pm gw=$gm
  if ! probe "" "$PARX" --sqlmaster "$pm" true ::: 1; then
    skip "$scen" "parx lacks --sqlmaster"
    return 0
  fi
  bench "$scen" "$RUNS_BIG" \
    parx "$(sql_pipeline "$pm" "$pw" "$PARX" "$SQL_N")" \
    gnu "$(sql_pipeline "$gm" "$gw" "$GNU" "$SQL_GNU_N")"
  # Every job must have its result, once.
  for name in parx gnu; do
    local table n
    [[ $name == parx ]] && table=px n=$SQL_N || { table=gx; n=$SQL_GNU_N; }
    if [[ $scen == sql-pg ]]; then check=$(pg_count_ok $table); else
      check=$(sqlite3 "$T/$table.db" "SELECT COUNT(*) FROM $table WHERE Exitval = 0" 2>/dev/null); fi
    if [[ -n ${MED[$scen.$name]:-} && $check != "$n" ]]; then
      log "$scen: $name left $check of $n results; its time is not reported"
      unset "MED[$scen.$name]"
    fi
  done
  report "$scen" jobs "master fills the table with /bin/true jobs, then 2 workers -j1; GNU on ${SQL_GNU_N} jobs (its rate is far lower), the ratio compares rates" parx gnu
}

# --- remote hosts ------------------------------------------------------------------
# Three real sshd on 127.0.0.2-4 (one port), keys and an ssh_config in $T/ssh;
# both tools reach them with --ssh "ssh -F $T/ssh/config" -S node2,node3,node4.
# SetEnv SHLVL=1: bash does not source ~/.bashrc per session (it would, run by
# sshd at level 1), so a slow rc file on the bench machine is not measured.
SSHD_PIDS=()
stop_sshd() { local p; for p in "${SSHD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop_sshd; cleanup' EXIT
start_sshd_nodes() {
  ((${#SSHD_PIDS[@]})) && return 0
  local d=$T/ssh i port sshd=/usr/sbin/sshd
  [[ -x $sshd ]] || { log "no $sshd (apt-get install openssh-server)"; return 1; }
  command -v rsync >/dev/null || { log "no rsync"; return 1; }
  mkdir -p "$d" && ssh-keygen -q -t ed25519 -N '' -f "$d/id" && cp "$d/id.pub" "$d/authorized_keys"
  [[ $(id -u) == 0 ]] && mkdir -p /run/sshd
  port=$((20000 + RANDOM % 20000))
  : >"$d/config"
  for i in 2 3 4; do
    ssh-keygen -q -t ed25519 -N '' -f "$d/hk$i"
    printf 'ListenAddress 127.0.0.%s:%s\nHostKey %s\nPidFile none\nAuthorizedKeysFile %s\nPermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nMaxStartups 200\nMaxSessions 64\nSetEnv SHLVL=1\n' \
      "$i" "$port" "$d/hk$i" "$d/authorized_keys" >"$d/sshd$i"
    "$sshd" -f "$d/sshd$i" -D -e 2>"$d/log$i" &
    SSHD_PIDS+=($!)
    printf 'Host node%s\n  HostName 127.0.0.%s\n  Port %s\n' "$i" "$i" "$port" >>"$d/config"
  done
  printf 'Host *\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile /dev/null\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  BatchMode yes\n  LogLevel ERROR\n' \
    "$(id -un)" "$d/id" >>"$d/config"
  for i in 2 3 4; do
    # sshd says when it listens; wait for that line (bounded).
    timeout 10 sh -c "until grep -q 'Server listening' '$d/log$i'; do sleep 0.05; done" ||
      { log "sshd on 127.0.0.$i did not start: $(cat "$d/log$i")"; return 1; }
  done
  SSHCMD="ssh -F $d/config"
  NODES=node2,node3,node4
  # No login noise from GNU parallel about ~/.parallel on the "hosts".
  mkdir -p "$HOME/.parallel" && touch "$HOME/.parallel/will-cite"
}

# 1,000 `true` jobs over 3 hosts, 4 per host. GNU parallel as users run it
# (a new ssh login per job) and with -M (its ControlMaster option).
sc_remote_true() {
  start_sshd_nodes || { skip remote-true "sshd could not be started"; return 0; }
  AMOUNT[remote-true]=$REMOTE_N
  seq "$REMOTE_N" >"$T/in.remote"
  local in ssh; in=$(q "$T/in.remote"); ssh=$(q "$SSHCMD")
  bench remote-true "$RUNS_REMOTE" \
    parx "$PARX --ssh $ssh -S $NODES -j4 true < $in" \
    gnu "$GNU --ssh $ssh -S $NODES -j4 true < $in" \
    gnu_M "$GNU -M --ssh $ssh -S $NODES -j4 true < $in"
  report remote-true jobs "true per job on 3 loopback sshd hosts, -j4 per host; gnu = a login per job, gnu_M = parallel -M" \
    parx gnu gnu_M
}

# --trc of small files: each job sends one file, makes one, brings it back,
# removes both on the host.
sc_remote_trc() {
  start_sshd_nodes || { skip remote-trc "sshd could not be started"; return 0; }
  AMOUNT[remote-trc]=$TRC_N
  local src=$T/trc i ssh tool
  mkdir -p "$src"
  for ((i = 1; i <= TRC_N; i++)); do echo "file $i" >"$src/f$i.txt"; done
  ssh=$(q "$SSHCMD")
  for tool in parx gnu; do
    rm -rf "$T/trc.$tool" && cp -r "$src" "$T/trc.$tool"
    (cd "$T/trc.$tool" && ls f*.txt >list)
  done
  bench remote-trc "$RUNS_REMOTE" \
    parx "cd $T/trc.parx && rm -f *.out && $PARX --ssh $ssh -S $NODES -j4 --wd $T/rwd.parx --trc {}.out 'tr a-z A-Z < {} > {}.out' < list" \
    gnu "cd $T/trc.gnu && rm -f *.out && $GNU -M --ssh $ssh -S $NODES -j4 --wd $T/rwd.gnu --trc {}.out 'tr a-z A-Z < {} > {}.out' < list"
  for tool in parx gnu; do
    local n; n=$(ls "$T/trc.$tool"/*.out 2>/dev/null | wc -l)
    if ((n != TRC_N)) && [[ -n ${MED[remote-trc.$tool]:-} ]]; then
      log "remote-trc: $tool returned $n of $TRC_N files; its time is not reported"
      unset "MED[remote-trc.$tool]"
    fi
  done
  report remote-trc jobs "$TRC_N files: --trc {}.out, -j4 per host on 3 loopback sshd hosts; gnu with -M" parx gnu
}

# --- run -----------------------------------------------------------------------
START=$(date +%s)
log "tmp dir $T; $( ((QUICK)) && echo quick || echo full) run"
wanted spawn-true && sc_spawn_true
wanted echo-output && sc_echo_output
wanted pipeline-job && sc_pipeline_job
wanted keep-order && sc_keep_order
wanted big-output && sc_big_output
wanted pipe-cat && sc_pipe pipe-cat
wanted pipe-gzip && sc_pipe pipe-gzip
wanted pipepart-gzip && sc_pipe pipepart-gzip
wanted dry-run-10M && sc_dry_run
wanted perl-dry-run && sc_perl_dry_run
wanted perl-jobs && sc_perl_jobs
wanted mem-spawn-true && sc_mem_spawn_true
wanted mem-keep-order && sc_mem_keep_order
wanted pool-map && sc_pool_map
wanted sql-sqlite && sc_sql sql-sqlite
wanted sql-pg && sc_sql sql-pg
wanted remote-true && sc_remote_true
wanted remote-trc && sc_remote_trc

# --- targets (issue 8) ------------------------------------------------------------
field() { # field SCENARIO KEY: value of KEY= in the scenario's line
  local l
  for l in "${LINES[@]}"; do
    [[ $l == "scenario=$1 "* ]] || continue
    l=" $l "
    [[ $l == *" $2="* ]] || return 1
    l=${l#* "$2"=}
    echo "${l%% *}"
    return 0
  done
  return 1
}
TARGETS=()
target() { # target SCENARIO KEY OP BOUND TEXT
  local v
  if ! v=$(field "$1" "$2") || [[ $v == failed ]]; then
    TARGETS+=("$(printf '%-46s %s' "$5" "not measured")")
    return
  fi
  if awk -v v="$v" -v b="$4" -v op="$3" 'BEGIN { exit !(op == ">=" ? v >= b : v <= b) }'; then
    TARGETS+=("$(printf '%-46s %-8s met' "$5" "$v")")
  else
    TARGETS+=("$(printf '%-46s %-8s MISSED' "$5" "$v")")
  fi
}
target spawn-true ratio_vs_limit ">=" 0.9 "spawn-true >= 0.90 of the raw spawn limit"
target spawn-true ratio_vs_xargs ">=" 1.2 "spawn-true >= 1.2x xargs -P2 -n1"
target spawn-true ratio_vs_gnu ">=" 4.5 "spawn-true ~5x GNU parallel (>= 4.5)"
target pipeline-job ratio_vs_xargs ">=" 1.3 "pipeline-job >= 1.3x xargs -I{} sh -c"
target pipeline-job ratio_vs_gnu ">=" 3 "pipeline-job >= 3x GNU parallel"
target pipe-cat ratio_vs_cat_cat ">=" 0.7 "pipe-cat >= 0.70 of cat | cat"
target sql-pg ratio_vs_gnu ">=" 50 "sql-pg >= 50x GNU's --sqlworker rate (issue 17)"
target pipe-gzip ratio_vs_gzip1 ">=" 1.7 "pipe-gzip >= 1.7x one gzip -1"
target pipepart-gzip ratio_vs_gzip1 ">=" 1.7 "pipepart-gzip >= 1.7x one gzip -1"
target pool-map ratio_vs_sequential ">=" 1.8 "pool-map >= 1.8x sequential (2 workers)"
target pool-map ratio_vs_rayon ">=" 0.9 "pool-map within 10% of rayon"
target perl-dry-run parx_rate ">=" 200000 "perl-dry-run >= 200,000 expressions/s (issue 15)"
target perl-dry-run growth "<=" 1.2 "perl-dry-run flat: RSS(N) / RSS(N/10) <= 1.2"
target perl-jobs ratio_vs_parx_plain ">=" 0.95 "perl-jobs at most 5% slower than without"
target mem-spawn-true parx "<=" 20480 "mem-spawn-true max RSS <= 20 MB (KB)"
target mem-spawn-true growth "<=" 1.2 "mem-spawn-true flat: RSS(N) / RSS(N/10) <= 1.2"
target remote-true ratio_vs_gnu ">=" 10 "remote-true >= 10x GNU parallel -S (issue 16)"

echo
echo "parx benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc $(nproc), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "parx $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), GNU parallel $(parallel --version 2>/dev/null | head -n1 | awk '{print $3}'), $(hyperfine --version)$( ((QUICK)) && echo ', --quick')"
echo "median of alternated runs; rate = work / median; 'parx xN' = peer time / parx time (higher = parx better)"
echo
printf '%-15s %-14s %9s %9s %8s %15s  %s\n' scenario tool median_s min_s cpu_s rate vs_peer
printf '%s\n' "${ROWS[@]}"
echo
echo "targets (issues 8 and 15):"
printf '  %s\n' "${TARGETS[@]}"
echo
printf '%s\n' "${LINES[@]}"
log "done in $(($(date +%s) - START)) s"
