#!/bin/bash
# The safety rules of docs/safety.md on real stores: create mode replaces
# only a store, readers never write, temporary names are no keys, redis
# prefixes are literal and keep off the locks, a lock break asks, and the
# redis password appears in no output.
#   safety_test.sh SIMREC TOOL DIR REDIS_PW_DIR PASSWORD WITH_HDF5
set -euo pipefail
simrec=$1 tool=$2 dir=$3 rdir=$4 pw=$5 hdf5=$6
fails=0
rm -rf "$dir" && mkdir -p "$dir"
all="$dir/all-output"
: >"$all"
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
# expect CODE WHAT CMD...: exit code; output in $out (and kept in $all)
expect() {
	code=$1 what=$2
	shift 2
	got=0
	out=$("$@" 2>&1) || got=$?
	printf '%s\n' "$out" >>"$all"
	[ "$got" = "$code" ] && ok "$what" || bad "$what (exit $got, want $code): $out"
}
has() { case $out in *"$1"*) ok "$2" ;; *) bad "$2: no '$1' in: $out" ;; esac; }
# sum PATH: checksum of a file or a whole tree (names, link targets, bytes)
sum() {
	if [ -d "$1" ] && [ ! -L "$1" ]; then
		(cd "$1" && find . | LC_ALL=C sort |
			while IFS= read -r f; do
				if [ -L "$f" ]; then echo "L $f $(readlink "$f")"
				elif [ -f "$f" ]; then echo "F $f $(sha256sum <"$f")"
				else echo "D $f"; fi
			done) | sha256sum
	elif [ -L "$1" ]; then
		echo "L $(readlink "$1")" | sha256sum
	else
		sha256sum <"$1"
	fi
}
same() { [ "$(sum "$1")" = "$2" ] && ok "$3: intact" || bad "$3: CHANGED"; }

schemes="zarr zarr+dir"
[ "$hdf5" = 1 ] && schemes="$schemes hdf5"

# ---- create mode replaces only a store of its scheme ---------------------
echo "precious bytes" >"$dir/notes.txt"
mkdir -p "$dir/foreign" && echo "thesis" >"$dir/foreign/chapter1"
mkdir -p "$dir/fakemdb" && echo "not lmdb" >"$dir/fakemdb/data.mdb"
for s in $schemes; do
	t=$(echo "$s" | tr + _)
	h=$(sum "$dir/notes.txt")
	expect 1 "$s mode=w refuses a regular file" "$tool" write "$s:$dir/notes.txt"
	has "refusing to replace" "$s: says why"
	same "$dir/notes.txt" "$h" "$s: regular file"
	h=$(sum "$dir/foreign")
	expect 1 "$s mode=w refuses a foreign directory" "$tool" write "$s:$dir/foreign"
	same "$dir/foreign" "$h" "$s: foreign directory"
	h=$(sum "$dir/fakemdb")
	expect 1 "$s mode=w refuses a fake data.mdb" "$tool" write "$s:$dir/fakemdb"
	same "$dir/fakemdb" "$h" "$s: fake data.mdb"
	# a real store of the scheme, reached through a symbolic link
	expect 0 "$s: a new store" "$tool" write "$s:$dir/real-$t"
	expect 0 "$s: mode=w replaces its own store" "$tool" write "$s:$dir/real-$t"
	ln -s "real-$t" "$dir/link-$t"
	h=$(sum "$dir/real-$t") hl=$(sum "$dir/link-$t")
	expect 1 "$s mode=w refuses a symbolic link" "$tool" write "$s:$dir/link-$t"
	has "symbolic link" "$s: names the link"
	same "$dir/real-$t" "$h" "$s: link target"
	same "$dir/link-$t" "$hl" "$s: the link itself"
	# the URI's ?mode=w on an append open: the same rules
	expect 1 "$s ?mode=w refuses a regular file" "$tool" append "$s:$dir/notes.txt?mode=w"
	same "$dir/notes.txt" "$(sum "$dir/notes.txt")" "$s: file (?mode=w)"
	mkdir -p "$dir/empty-$t"
	expect 0 "$s: an empty directory is used" "$tool" write "$s:$dir/empty-$t/s"
done
# append mode creates a store, never takes over a foreign directory: a
# later mode=w would otherwise count it as a store and delete its files
for s in zarr zarr+dir; do
	h=$(sum "$dir/foreign")
	expect 1 "$s append refuses a foreign directory" "$tool" append "$s:$dir/foreign"
	has "is a non-empty directory that is not a zarr store" "$s: append says why"
	same "$dir/foreign" "$h" "$s: foreign directory (append)"
	expect 1 "$s export refuses a foreign directory" "$simrec" export "zarr+dir:$dir/real-zarr_dir" "$s:$dir/foreign"
	same "$dir/foreign" "$h" "$s: foreign directory (export)"
done
if [ "$hdf5" = 1 ]; then
	h=$(sum "$dir/notes.txt")
	expect 1 "hdf5 append refuses a file that is not HDF5" "$tool" append "hdf5:$dir/notes.txt"
	same "$dir/notes.txt" "$h" "hdf5: regular file (append)"
fi
# a create that fails leaves no half-made LMDB store behind
expect 1 "zarr: create with a too small map_size fails" "$tool" write "zarr:$dir/tiny?map_size=1k"
[ -e "$dir/tiny" ] && bad "the failed create left $(ls "$dir/tiny")" || ok "the failed create left nothing"
mkdir "$dir/tiny2"
expect 1 "zarr: failed create in an empty directory" "$tool" append "zarr:$dir/tiny2?map_size=1k"
[ -z "$(ls -A "$dir/tiny2")" ] && ok "the directory is empty again" || bad "left $(ls -A "$dir/tiny2")"
expect 0 "zarr: mode=w after a failed create" "$tool" write "zarr:$dir/tiny"
expect 0 "zarr: append after a failed create" "$tool" append "zarr:$dir/tiny2"
# deleting a directory store never follows a link inside it
"$tool" write "zarr+dir:$dir/withlink" >/dev/null
ln -s "$dir/foreign" "$dir/withlink/outside"
h=$(sum "$dir/foreign")
expect 0 "zarr+dir: replace a store holding a link" "$tool" write "zarr+dir:$dir/withlink"
same "$dir/foreign" "$h" "the link's target"

# ---- readers never write -------------------------------------------------
for s in $schemes; do
	t=$(echo "$s" | tr + _)
	st="$s:$dir/read-$t"
	"$tool" write "$st" >/dev/null || bad "$s: reader store"
	# LMDB readers register in lock.mdb (its reader table): data.mdb
	# is the store's content
	data="$dir/read-$t"
	[ "$s" = zarr ] && data="$dir/read-$t/data.mdb"
	h=$(sum "$data")
	expect 0 "$s: ls ?mode=w" "$simrec" ls "$st?mode=w"
	has "a/" "$s: ls lists"
	expect 0 "$s: info ?mode=w" "$simrec" info "$st?mode=w" a/x
	expect 0 "$s: cat ?mode=w" "$simrec" cat "$st?mode=w" a/x
	expect 0 "$s: verify ?mode=w" "$simrec" verify "$st?mode=w"
	has "ok    a/x" "$s: verify sees the data"
	expect 0 "$s: export source ?mode=w" "$simrec" export "$st?mode=w" "zarr+dir:$dir/copy-$t"
	expect 0 "$s: library read-only ?mode=w" "$tool" read "$st?mode=w"
	same "$data" "$h" "$s: readers with ?mode=w"
	# SIMREC_STORE names this store with mode=w; readers open another
	"$tool" write "zarr+dir:$dir/other-$t" >/dev/null
	for c in ls verify; do
		expect 0 "$s: $c with SIMREC_STORE=...?mode=w" env SIMREC_STORE="$st?mode=w" "$simrec" $c "zarr+dir:$dir/other-$t"
	done
	expect 0 "$s: export with SIMREC_STORE" env SIMREC_STORE="$st?mode=w" "$simrec" export "zarr+dir:$dir/other-$t" "zarr+dir:$dir/copy2-$t"
	expect 0 "$s: library reader with SIMREC_STORE" env SIMREC_STORE="$st?mode=w" "$tool" read "zarr+dir:$dir/other-$t"
	same "$data" "$h" "$s: readers with SIMREC_STORE"
done

# ---- temporary names are no keys ----------------------------------------
expect 0 "a key named energy.partial" "$tool" badkey "zarr+dir:$dir/tmpkeys" energy.partial
expect 0 "ls shows energy.partial" "$simrec" ls "zarr+dir:$dir/tmpkeys"
has "energy.partial" "energy.partial listed"
expect 0 "verify sees energy.partial" "$simrec" verify "zarr+dir:$dir/tmpkeys"
has "ok    energy.partial" "energy.partial verified"
expect 1 "a key part .simrec-tmp-1 is refused" "$tool" badkey "zarr+dir:$dir/tmpkeys" a/.simrec-tmp-1
echo junk >"$dir/tmpkeys/.simrec-tmp-99-0"
expect 0 "ls skips a leftover temporary file" "$simrec" ls "zarr+dir:$dir/tmpkeys"
case $out in *simrec-tmp*) bad "temporary file listed" ;; *) ok "temporary file not listed" ;; esac

# ---- redis: password, prefixes, locks ------------------------------------
port=$(cat "$rdir/port")
enc=$(printf '%s' "$pw" | sed 's/@/%40/g')
host="127.0.0.1:$port"
R="redis://:$enc@$host"
rcli() { REDISCLI_AUTH="$pw" redis-cli -p "$port" "$@"; }
expect 0 "redis: write with a %-encoded password" "$tool" write "$R?prefix=run"
expect 0 "redis: ls" "$simrec" ls "$R?prefix=run"
expect 0 "redis: info" "$simrec" info "$R?prefix=run" a/x
expect 1 "redis: info of a missing key" "$simrec" info "$R?prefix=run" nothing/here
expect 0 "redis: verify" "$simrec" verify "$R?prefix=run"
has "redis://***@$host" "verify prints the masked URI"
expect 0 "redis: export to a store" "$simrec" export "$R?prefix=run" "zarr+dir:$dir/fromredis"
expect 0 "redis: export into redis" "$simrec" export "zarr+dir:$dir/fromredis" "$R?prefix=run2"
has "to redis://***@$host" "export prints the masked URI"
expect 0 "redis: ?password= form" "$simrec" ls "redis://$host?prefix=run&password=$enc"
expect 1 "redis: ?password= form in an error" "$simrec" info "redis://$host?prefix=run&password=$enc" nothing
expect 0 "redis: SIMREC_REDIS_PASSWORD" env SIMREC_REDIS_PASSWORD="$pw" "$simrec" ls "redis://$host?prefix=run"
expect 1 "redis: no password" "$simrec" ls "redis://$host?prefix=run"
has "authentication required" "missing password named"
expect 1 "redis: wrong password" "$simrec" ls "redis://:nope@$host?prefix=run"
has "wrong password" "wrong password named"
expect 1 "redis: trace of a failure" env SIMREC_TRACE=1 "$simrec" cat "$R?prefix=run" nothing
expect 0 "redis: lock status" "$simrec" lock status "$R" "redis:$R"
expect 1 "redis: library open error" "$tool" read "$R/0?prefix=nothing-here&lock=$R&lease=zz"
# prefixes are literal, never the locks'
before=$(rcli --scan | LC_ALL=C sort | sha256sum)
expect 0 "redis: mode=w on prefix '*'" "$tool" write "$R?prefix=*"
after=$(rcli --scan | grep -v '^\*:' | LC_ALL=C sort | sha256sum)
[ "$before" = "$after" ] && ok "prefix '*' deleted nothing else" || bad "prefix '*' deleted other keys"
expect 0 "redis: other run intact" "$simrec" verify "$R?prefix=run"
expect 1 "redis: empty prefix refused" "$tool" write "$R?prefix="
expect 1 "redis: the locks' prefix refused" "$tool" write "$R?prefix=simrec-lock"
# ':' separates the parts of a key: prefix run:d would be the chunks of run
h=$(rcli --scan --pattern 'run:*' | LC_ALL=C sort | sha256sum)
expect 1 "redis: mode=w on prefix 'run:d' refused" "$tool" write "$R?prefix=run:d"
has "hold no ':'" "prefix with ':' says why"
[ "$(rcli --scan --pattern 'run:*' | LC_ALL=C sort | sha256sum)" = "$h" ] && ok "run intact after prefix 'run:d'" || bad "prefix 'run:d' changed run"
expect 1 "redis: reader of prefix 'run:d' refused" "$simrec" ls "$R?prefix=run:d"
# a prefix that holds no store is no key, not an empty healthy store
expect 1 "redis: verify of a mistyped prefix" "$simrec" verify "$R?prefix=typo"
has "prefix 'typo'" "the mistyped prefix is named"
expect 1 "redis: ls of a mistyped prefix" "$simrec" ls "$R?prefix=typo"
has "prefix 'typo'" "ls names the prefix"
expect 1 "redis: library read of a mistyped prefix" "$tool" read "$R?prefix=typo"
[ -z "$(rcli --scan --pattern 'typo*')" ] && ok "readers of a mistyped prefix wrote nothing" || bad "a reader wrote under typo"
# a writer holds the lock of the store: create mode is refused
res="redis:redis://$host?prefix=run"
mkfifo "$dir/hold.in" "$dir/hold.out"
"$tool" hold "$R" "$res" <"$dir/hold.in" >"$dir/hold.out" 2>&1 &
hpid=$!
exec 3>"$dir/hold.in"
read -r held token <"$dir/hold.out"
[ "$held" = held ] && ok "another client holds the lock" || bad "hold: $held $token"
h=$(rcli --scan --pattern 'run:*' | LC_ALL=C sort | sha256sum)
expect 1 "redis: mode=w on a locked store refused" "$tool" write "$R?prefix=run"
has "SIMREC_ELOCK" "refused with SIMREC_ELOCK"
[ "$(rcli --scan --pattern 'run:*' | LC_ALL=C sort | sha256sum)" = "$h" ] && ok "locked store intact" || bad "locked store changed"
expect 1 "lock break needs --force off a terminal" "$simrec" lock break "$R" "$res" </dev/null
has "writer" "break shows the holder"
has " since " "break shows since when"
expect 0 "lock break --force" "$simrec" lock break --force "$R" "$res" </dev/null
has "broken" "lock broken"
expect 0 "redis: mode=w after the break" "$tool" write "$R?prefix=run"
expect 0 "lock status after" "$simrec" lock status "$R" "$res"
has "last token: $token" "the fencing token did not go back"
exec 3>&-
wait "$hpid"
expect 0 "redis: mode=w on the default prefix" "$tool" write "$R"
expect 0 "lock status after a default-prefix create" "$simrec" lock status "$R" "$res"
has "last token: $token" "the fencing token survives create mode"

# ---- hostile passwords: every printer masks them -------------------------
# White space in the userinfo, a scheme in another case, '&' in a
# password= value, a lock URI inside another store's URI, and several URIs
# in one list: through the CLI, the library's own messages (SIMREC_TRACE)
# and Python's exceptions. Each secret holds "Hostile-4417" (checked below).
S=Hostile-4417
hostile=(
	"redis://:pa ss9$S@$host"
	"REDIS://:secret$S@$host"
	"Redis://:secret$S@$host?prefix=run"
	"rediss://u s:p@w$S@$host"
	"redis://$host?password=ab&cd$S"
	"redis://$host?prefix=run&PASSWORD=ab&cd$S&x=y"
	"redis://$host?user=ab&cd$S"
	"zarr:$dir/hl.zarr?lock=redis://:my secret$S@$host"
	"zarr:$dir/hl.zarr?lock=REDIS://:my&secret$S@$host"
	"redis://:a b$S@$host;Redis://:c$S@$host;zarr:$dir/hl.zarr?lock=redis://:d e$S@$host"
)
for u in "${hostile[@]}"; do
	for cmd in ls verify; do
		out=$("$simrec" "$cmd" "$u" 2>&1) || true
		printf '%s\n' "$out" >>"$all"
		out=$(SIMREC_TRACE=1 "$simrec" "$cmd" "$u" 2>&1) || true
		printf '%s\n' "$out" >>"$all"
	done
	out=$(SIMREC_TRACE=1 "$tool" write "$u" 2>&1) || true
	printf '%s\n' "$out" >>"$all"
	out=$(SIMREC_TRACE=1 "$tool" read "$u" 2>&1) || true
	printf '%s\n' "$out" >>"$all"
done
# a sanitizer build's library cannot be loaded into Python: the Python
# part runs in the normal build
if [ "${SIMREC_SANITIZED:-0}" = 1 ]; then
	py_hostile="(python: in the normal build)"
else
py_hostile=$(SIMREC_TRACE=1 /usr/bin/python3 - "${hostile[@]}" 2>&1 <<'PY'
import sys
import simrec
import xarray as xr
from simrec._util import masked
for u in sys.argv[1:]:
    print(masked(u))
    for mode in ("r", "w"):
        try:
            simrec.Recorder(u, mode=mode).close()
        except Exception as e:
            print(type(e).__name__, e, repr(e))
    try:
        simrec.Recorder(*u.split(";"), mode="r").close()
    except Exception as e:
        print(type(e).__name__, e, repr(e))
    try:
        simrec.Lock(u.split("lock=")[-1], "res").close()
    except Exception as e:
        print(type(e).__name__, e, repr(e))
    try:
        xr.open_dataset(u, engine="simrec").close()
    except Exception as e:
        print(type(e).__name__, e, repr(e))
PY
) && ok "python: hostile URIs tried" || bad "python: hostile URIs: $py_hostile"
fi
printf '%s\n' "$py_hostile" >>"$all"
if grep -F -e "$S" "$all" >/dev/null; then
	bad "a hostile password appears in the output:"
	grep -n -F -e "$S" "$all"
else
	ok "no hostile password in any output"
fi

# ---- the password in no output ------------------------------------------
if grep -F -e "$pw" -e "$enc" -e "Safety-7731" "$all" >/dev/null; then
	bad "the password appears in the output:"
	grep -n -F -e "Safety-7731" "$all"
else
	ok "the password appears in no output ($(wc -l <"$all") lines)"
fi

[ "$fails" = 0 ] && echo "safety: ok" || { echo "safety: $fails failure(s)"; exit 1; }
