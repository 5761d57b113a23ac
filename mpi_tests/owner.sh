#!/bin/bash
# One writer per zarr store: (1) while a writer holds the store (it hands
# its pid over a FIFO and waits for a line back; its own second open was
# refused first), a second writer on this host is refused with
# SIMREC_ELOCK naming the holder's pid and host, also as "STORE/.", through
# a symbolic link and as "DIR/./STORE", a reader still reads, and the holder then finishes: the store holds its 7
# records only, and its lock file is gone; (2) a writer killed with
# SIGKILL leaves a stale lock: the next writer says so on stderr, takes
# the store over and writes; (3) a store deleted with rm -rf after its
# writer closed it is made again at the same path; the lock of a writer of
# another host (a UTS namespace with a hostname of its own) killed with
# SIGKILL refuses the next writer while its store is there (also when its
# lock names another device number, as NFS and Lustre clients do), and is taken
# over, said on stderr, once that store was deleted (rm -rf).
# usage: owner.sh TEST_NOCLOSE WORKDIR SCHEME...
set -euo pipefail
bin=$1 work=$2
shift 2
rm -rf "$work"
mkdir -p "$work"
fifo=$work/fifo
host=$(hostname)
fail=0
# kill_holder JOB WHO: the holder's pid from the FIFO (sets pid), kill -9
# of it, the job waited for; what went wrong appended to why
kill_holder() {
	local job=$1 who=$2 hrc=0
	pid=$(timeout 60 cat "$fifo.out") || pid=
	case $pid in
	'' | *[!0-9]*) why="${why:+$why; }$who sent no pid ('$pid')" ;;
	*) kill -9 "$pid" ;;
	esac
	wait "$job" || hrc=$?
	[ "$hrc" != 0 ] || why="${why:+$why; }$who, killed, exited 0"
}
for scheme in "$@"; do
	store=$work/store.$scheme uri=$scheme:$work/store.$scheme
	why=
	# (1) two concurrent writers
	rm -f "$fifo.out" "$fifo.in"
	mkfifo "$fifo.out" "$fifo.in"
	timeout -k 5 60 "$bin" hold "$uri" "$fifo" >"$work/hold.out" 2>&1 &
	job=$!
	pid=$(timeout 60 cat "$fifo.out") || pid=
	case $pid in '' | *[!0-9]*) why="the holder sent no pid ('$pid')" ;; esac
	src=0
	"$bin" second "$uri" >"$work/second" 2>&1 || src=$?
	[ "$src" = 0 ] || why="${why:+$why; }the second writer was not refused with SIMREC_ELOCK: $(cat "$work/second")"
	grep -q -F -- "by pid $pid on host $host" "$work/second" ||
		why="${why:+$why; }the refusal does not name pid $pid on $host: $(cat "$work/second")"
	# the same store spelled otherwise: "STORE/.", a symbolic link
	ln -sfn "$store" "$work/link.$scheme"
	for other in "$uri/." "$scheme:$work/link.$scheme" "$scheme:$work/./store.$scheme"; do
		src=0
		"$bin" second "$other" >"$work/second2" 2>&1 || src=$?
		[ "$src" = 0 ] || why="${why:+$why; }a second writer as '$other' was not refused with SIMREC_ELOCK: $(cat "$work/second2")"
	done
	rm -f "$work/link.$scheme"
	rrc=0
	"$bin" read "$uri" 3 0 >"$work/read" 2>&1 || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }a reader failed beside the writer: $(cat "$work/read")"
	echo go >"$fifo.in"
	hrc=0
	wait "$job" || hrc=$?
	[ "$hrc" = 0 ] || why="${why:+$why; }the holder exited $hrc: $(cat "$work/hold.out")"
	rrc=0
	"$bin" read "$uri" 7 0 >"$work/read" 2>&1 || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }read after: $(cat "$work/read")"
	[ ! -e "$store.simrec-writer" ] || why="${why:+$why; }the lock file outlived its writer's close"
	# (2) a stale lock from a killed writer
	rm -rf "$store"
	timeout -k 5 60 "$bin" hold "$uri" "$fifo" >"$work/hold.out" 2>&1 &
	kill_holder $! "the second holder"
	[ -e "$store.simrec-writer" ] || why="${why:+$why; }no stale lock file to take over"
	trc=0
	"$bin" serial "$uri" 7 >"$work/take" 2>&1 || trc=$?
	[ "$trc" = 0 ] || why="${why:+$why; }the next writer exited $trc: $(cat "$work/take")"
	grep -q -F -- "its writer (pid $pid on $host" "$work/take" ||
		why="${why:+$why; }the take-over was not reported: $(cat "$work/take")"
	rrc=0
	"$bin" read "$uri" 7 0 >"$work/read" 2>&1 || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }read after the take-over: $(cat "$work/read")"
	# (3) rm -rf of a closed store, then the same path again
	rm -rf "$store"
	trc=0
	"$bin" serial "$uri" 7 >"$work/again" 2>&1 || trc=$?
	[ "$trc" = 0 ] || why="${why:+$why; }made again after rm -rf: exited $trc: $(cat "$work/again")"
	[ ! -e "$store.simrec-writer" ] || why="${why:+$why; }a lock file outlived the remade store's close"
	# ... and the lock of a killed writer of another host
	timeout -k 5 60 unshare --uts sh -c 'hostname "$1"; shift; exec "$@"' \
		sh "elsewhere-$$" "$bin" hold "$uri" "$fifo" >"$work/hold.out" 2>&1 &
	kill_holder $! "the other host's holder"
	grep -q -F "host elsewhere-$$" "$store.simrec-writer" ||
		why="${why:+$why; }no lock file of the other host: $(cat "$store.simrec-writer" 2>&1)"
	src=0
	"$bin" second "$uri" >"$work/second" 2>&1 || src=$?
	[ "$src" = 0 ] || why="${why:+$why; }a store of another host's writer was taken over while there: $(cat "$work/second")"
	# a shared file system gives each client a device number of its own:
	# the other host's lock naming another device, the same inode, must
	# still refuse while the store is there
	sed -i "s/^store [0-9]* /store 987654321 /" "$store.simrec-writer"
	grep -q "^store 987654321 [1-9]" "$store.simrec-writer" ||
		why="${why:+$why; }the other host's lock names no store to give another device: $(cat "$store.simrec-writer")"
	src=0
	"$bin" second "$uri" >"$work/second" 2>&1 || src=$?
	[ "$src" = 0 ] || why="${why:+$why; }another host's lock with another device number was taken over while its store is there: $(cat "$work/second")"
	rm -rf "$store"
	trc=0
	"$bin" serial "$uri" 7 >"$work/take" 2>&1 || trc=$?
	[ "$trc" = 0 ] || why="${why:+$why; }not made again after rm -rf of the other host's store: exited $trc: $(cat "$work/take")"
	grep -q -F -- "(pid $pid on elsewhere-$$" "$work/take" && grep -q -F "is gone (deleted" "$work/take" ||
		why="${why:+$why; }the take-over of the deleted store's lock was not reported: $(cat "$work/take")"
	rrc=0
	"$bin" read "$uri" 7 0 >"$work/read" 2>&1 || rrc=$?
	[ "$rrc" = 0 ] || why="${why:+$why; }read after the remake: $(cat "$work/read")"
	echo "$scheme: refused $(head -c 200 "$work/second" | head -1)${why:+ -- FAIL: $why}"
	[ -z "$why" ] || fail=1
done
rm -f "$fifo.out" "$fifo.in"
[ "$fail" = 0 ]
