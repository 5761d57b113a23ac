#!/bin/bash
# The environment's promises (include/simrec.h, docs/safety.md):
# SIMREC_STORE replaces a writer's URI list (and never a reader's);
# SIMREC_TRACE=1 prints the source file and line of each failure, the
# first line the origin, and nothing without it; a password in a rediss://
# URI (user:password@, ?password=) shows as *** in every error message,
# trace line and command-line output.
#   env_test.sh SIMREC TOOL DIR PYTHON SOURCE_DIR
set -euo pipefail
simrec=$1 tool=$2 dir=$3 py=$4 src=$5
rm -rf "$dir" && mkdir -p "$dir"
fails=0
ok() { printf 'ok   %s\n' "$1"; }
bad() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
# run CODE WHAT CMD...: the exit code; stdout+stderr in $out
run() {
	local code=$1 what=$2 got=0
	shift 2
	out=$("$@" 2>&1) || got=$?
	[ "$got" = "$code" ] && ok "$what" || bad "$what (exit $got, want $code): $out"
}

# ---- SIMREC_STORE --------------------------------------------------------
run 0 "a writer with SIMREC_STORE" env SIMREC_STORE="zarr+dir:$dir/redirected" \
	"$tool" write "zarr+dir:$dir/named"
[ ! -e "$dir/named" ] && ok "the URI given is not written" || bad "wrote $dir/named"
run 0 "an appending writer with SIMREC_STORE" env SIMREC_STORE="zarr+dir:$dir/redirected" \
	"$tool" append "zarr+dir:$dir/named2" b/y
[ ! -e "$dir/named2" ] && ok "the URI given is not appended to" || bad "wrote $dir/named2"
# what the recorder wrote (1.5, 2.5, 3.5 per record), read by zarr-python
run 0 "zarr-python reads the redirected store" "$py" -c "
import sys, zarr, numpy as np
g = zarr.open_group(sys.argv[1], mode='r')
assert np.array_equal(g['a/x'][...], [[1.5, 2.5, 3.5]]), g['a/x'][...]
assert np.array_equal(g['b/y'][...], [[1.5, 2.5, 3.5]]), g['b/y'][...]
" "$dir/redirected"
run 0 "a reader ignores SIMREC_STORE" env SIMREC_STORE="zarr+dir:$dir/nothing" \
	"$tool" read "zarr+dir:$dir/redirected"
[ ! -e "$dir/nothing" ] && ok "the reader did not open SIMREC_STORE" || bad "created $dir/nothing"

# ---- SIMREC_TRACE ----------------------------------------------------------
run 1 "a failure with SIMREC_TRACE=1" env SIMREC_TRACE=1 \
	"$simrec" info "zarr+dir:$dir/redirected" no/such/key
trace=$(awk '/^simrec trace: /' <<<"$out")
first=$(awk 'NR == 1' <<<"$trace")
[ -n "$first" ] && ok "trace lines printed" || bad "no trace line in: $out"
# "simrec trace: src/FILE.c:LINE: SIMREC_E...: message"
if [[ $first =~ ^simrec\ trace:\ (src/[a-z_/]+\.c):([0-9]+):\ SIMREC_E[A-Z]+:\ .+ ]]; then
	file=${BASH_REMATCH[1]} line=${BASH_REMATCH[2]}
	lines=$(wc -l <"$src/$file")
	[ "$line" -ge 1 ] && [ "$line" -le "$lines" ] &&
		ok "the first trace line names $file:$line, a line of the source" ||
		bad "$file has $lines lines, the trace says $line"
	# the origin: that line reports a failure (sr_fail or a helper)
	sed -n "$((line > 3 ? line - 3 : 1)),${line}p" "$src/$file" | grep -q 'fail\|return' &&
		ok "$file:$line reports a failure" || bad "$file:$line is no failure: $(sed -n "${line}p" "$src/$file")"
else
	bad "the first trace line is not 'simrec trace: src/FILE.c:LINE: SIMREC_E...: ...': $first"
fi
grep -q "no/such/key" <<<"$trace" && ok "the trace names the key" || bad "the trace does not name the key: $trace"
run 1 "the same failure without SIMREC_TRACE" "$simrec" info "zarr+dir:$dir/redirected" no/such/key
grep -q "simrec trace:" <<<"$out" && bad "trace lines without SIMREC_TRACE: $out" || ok "no trace line without SIMREC_TRACE"
run 1 "SIMREC_TRACE=0 is off" env SIMREC_TRACE=0 "$simrec" info "zarr+dir:$dir/redirected" no/such/key
grep -q "simrec trace:" <<<"$out" && bad "trace lines with SIMREC_TRACE=0: $out" || ok "no trace line with SIMREC_TRACE=0"

# ---- rediss:// passwords are masked ---------------------------------------
pw="Rs-Secret-4417"
all=$dir/all-output
: >"$all"
for uri in "rediss://:$pw@127.0.0.1:1?prefix=x" \
	"rediss://bob:$pw@127.0.0.1:1/0?prefix=x" \
	"rediss://127.0.0.1:1?prefix=x&password=$pw"; do
	for c in ls verify "info @ a/x" "cat @ a/x" "export zarr+dir:$dir/redirected @"; do
		# @ stands for the URI; without @ it comes last
		args=()
		for a in $c; do [ "$a" = @ ] && args+=("$uri") || args+=("$a"); done
		[[ $c == *@* ]] || args+=("$uri")
		run 1 "simrec ${c%% *} refuses $uri" env SIMREC_TRACE=1 "$simrec" "${args[@]}"
		printf '%s\n' "$out" >>"$all"
		grep -q 'rediss://[^ ]*\*\*\*' <<<"$out" && ok "the URI is shown masked" ||
			bad "no masked rediss:// URI in: $out"
	done
	run 1 "the library refuses $uri" env SIMREC_TRACE=1 "$tool" write "$uri"
	printf '%s\n' "$out" >>"$all"
	# (its message names the URI without the query: ?password= is not shown)
	[[ $uri != *@* ]] || grep -q 'rediss://[^ ]*\*\*\*@' <<<"$out" &&
		ok "the library's message is masked" || bad "no masked rediss:// URI in: $out"
	run 1 "SIMREC_STORE=$uri for a writer" env SIMREC_TRACE=1 SIMREC_STORE="$uri" \
		"$tool" write "zarr+dir:$dir/other"
	printf '%s\n' "$out" >>"$all"
done
if grep -F -q "$pw" "$all"; then
	bad "the password appears in the output:"
	grep -n -F "$pw" "$all"
else
	ok "the password appears in no output ($(wc -l <"$all") lines)"
fi

[ "$fails" = 0 ] && echo "env: ok" || echo "env: $fails failure(s)"
exit "$fails"
