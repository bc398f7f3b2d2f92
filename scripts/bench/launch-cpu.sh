#!/usr/bin/env bash
# `npm run bench:launch` (root): whole-machine CPU ms per sandbox start for variants of the launch
# chain, against a bare python start, in interleaved blocks of N starts (REPS rounds), less the
# background rate of an idle second before each round. Run on an otherwise quiet machine.
# nproc is 4096 here, not the grader's 64: each start of the old-reaper variant leaves bwrap's exited
# reaper to pid 1, and until pid 1 reaps it, it counts against the uid's RLIMIT_NPROC.
SECC=$(ls "${CAIRN_SANDBOX_STATE_DIR:-/var/lib/cairn/sandbox}"/seccomp-*.bpf 2>/dev/null | head -1)
[ -n "$SECC" ] || { echo "no seccomp filter found: run node scripts/cairn.js setup (or npm run bench:grader) first" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (setpriv drops to uid 65534)" >&2; exit 1; }
PY=/usr/bin/python3
NS=/run/cairn-bench-netns
touch $NS; unshare --net=$NS true
trap 'umount $NS 2>/dev/null; rm -f $NS' EXIT
B="--unshare-user --disable-userns --die-with-parent --new-session --cap-drop ALL --hostname sandbox --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 --symlink usr/bin /bin --symlink usr/sbin /sbin --ro-bind /etc/ld.so.cache /etc/ld.so.cache --proc /proc --dev /dev --perms 1777 --size 16777216 --tmpfs /dev/shm --remount-ro /dev --size 33554432 --tmpfs /tmp --remount-ro / --chdir /tmp --clearenv --setenv PATH /usr/bin"
PRL="/usr/bin/prlimit --as=1073741824 --cpu=3:4 --nproc=4096 --fsize=16777216 --nofile=64 --core=0 --"
DROP="/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --"
ULIM="ulimit -S -t 3; ulimit -H -t 4; ulimit -v 1048576; ulimit -p 4096; ulimit -f 32768; ulimit -n 64; ulimit -c 0;"
CMD="$PY -I -S -c pass"
declare -A V
V[python]="$CMD"
V[current]="$PRL $DROP /usr/bin/bwrap --unshare-all --as-pid-1 $B --seccomp 9 -- $CMD 9<$SECC"
V[noseccomp]="$PRL $DROP /usr/bin/bwrap --unshare-all --as-pid-1 $B -- $CMD"
V[old-reaper]="$PRL $DROP /usr/bin/bwrap --unshare-all $B --seccomp 9 -- $CMD 9<$SECC"
V[shared-netns]="/usr/bin/nsenter --net=$NS $PRL $DROP /usr/bin/bwrap --unshare-all --as-pid-1 --share-net $B --seccomp 9 -- $CMD 9<$SECC"
V[ulimit]="$ULIM $DROP /usr/bin/bwrap --unshare-all --as-pid-1 $B --seccomp 9 -- $CMD 9<$SECC"
V[no-mounts]="$PRL $DROP /usr/bin/bwrap --unshare-all --as-pid-1 --unshare-user --disable-userns --die-with-parent --ro-bind / / --seccomp 9 -- $CMD 9<$SECC"
ORDER=${ORDER:-python current noseccomp old-reaper shared-netns ulimit no-mounts}
N=${N:-100}; REPS=${REPS:-3}
busy() { read -r _ u n s i w q sq st _ < /proc/stat; echo $((u+n+s+q+sq+st)); }
now() { date +%s%N; }
declare -A cpu wall
for rep in $(seq $REPS); do
  b0=$(busy); t0=$(now); sleep 1; bg=$(( ($(busy)-b0) )); bgt=$(( ($(now)-t0)/1000000 ))
  for v in $ORDER; do
    b0=$(busy); t0=$(now)
    for i in $(seq $N); do sh -c "${V[$v]}" >/dev/null 2>&1 </dev/null || { echo "variant $v failed:"; sh -c "${V[$v]}"; exit 1; }; done
    sleep 0.3
    dt=$(( ($(now)-t0)/1000000 )); db=$(( $(busy)-b0 ))
    # ticks are 10 ms; background ticks per ms = bg/bgt
    c=$(awk -v db=$db -v bg=$bg -v bgt=$bgt -v dt=$dt -v n=$N 'BEGIN{printf "%.3f", (db*10 - bg*10/bgt*dt)/n}')
    cpu[$v]="${cpu[$v]} $c"; wall[$v]="${wall[$v]} $(( (dt-300)*1000/N ))"
  done
done
for v in $ORDER; do
  echo "$v:${cpu[$v]}:${wall[$v]}" | awk -F: '{n=split($2,a," "); s=0; for(i=1;i<=n;i++)s+=a[i]; m=split($3,b," "); w=0; for(i=1;i<=m;i++)w+=b[i]; printf "%-14s CPU %6.2f ms/start (blocks:%s)   wall %6.2f ms\n", $1, s/n, $2, w/m/1000}'
done
