#!/bin/bash
# Breaks the library on purpose, one mutation at a time, in a temporary
# copy of the tree (the checkout is never touched), and shows that the
# suite catches each: for every mutation it rebuilds, runs the tests that
# guard the broken promise and prints which of them failed. Exits non-zero
# if a mutation is caught by no test, does not apply (the code it edits
# moved: update the table below), or the unmutated copy fails those tests.
#   tools/mutate.sh [NAME...]     (default: every mutation)
# Environment: JOBS (default nproc), KEEP=1 keeps the copy.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-$(nproc)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/simrec-mutate.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree build=$tmp/tree/build-mutate
mkdir -p "$tree"
# the working tree as it is (tracked and new files), not its build dirs
(cd "$src" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) |
	tar -xf - -C "$tree"

# ---- the mutations: NAME, what it breaks, tests that must catch it ------
# save PATH: keep a copy of PATH (a file or a folder) to undo the mutation
save() {
	mkdir -p "$tmp/undo"
	(cd "$tree" && tar -cf - "$1") | tar -xf - -C "$tmp/undo"
	printf '%s\n' "$1" >>"$tmp/undo.list"
}
# undo: every saved path back, with a new mtime (so that make rebuilds it)
undo() {
	local p
	while IFS= read -r p; do
		rm -rf "${tree:?}/$p"
		cp -r "$tmp/undo/$p" "$tree/$p"
		find "$tree/$p" -exec touch {} +
	done <"$tmp/undo.list"
	rm -rf "$tmp/undo" "$tmp/undo.list"
}
# edit FILE OLD NEW: replace the text OLD (it must occur exactly once)
edit() {
	save "$1"
	/usr/bin/python3 - "$tree/$1" "$2" "$3" <<'PY'
import sys
path, old, new = sys.argv[1:4]
s = open(path).read()
if s.count(old) != 1:
    sys.exit(f"mutation does not apply: {s.count(old)} matches in {path}")
open(path, "w").write(s.replace(old, new))
PY
}
mutations=(agree_rank1 reader_last_step verify_whole token_stuck
	password_shown empty_corpus close_rank1 verify_off_by_one
	global_overlap global_uncovered global_shifted global_check_cache
	joined_leftovers swmr_extent_early swmr_no_refresh swmr_never_started)
declare -A what tests
what[agree_rank1]="a collective status that differs on one rank (rank 1 returns its own status)"
tests[agree_rank1]='^(mpi_key_fails_w[12]|mpi_key_fails_noflush_w2|mpi_bad_key_zarr_dir_np2|mpi_record_all_zarr_dir_np2_m2)$'
m_agree_rank1() {
	edit src/mpi/agree.c '		        why[0] ? why : simrec_strerror(all));
	return all;' '		        why[0] ? why : simrec_strerror(all));
	return rec->rank == 1 ? rc : all;'
}
what[reader_last_step]="a reader that fails on the last step"
tests[reader_last_step]='^(store_zarr_dir|mpi_record_all_zarr_dir_np2_m1|interop_mpi_zarr_dir_np2_m1|mpi_kill_writer_zarr_dir|python_roundtrip|cli)$'
m_reader_last_step() {
	edit src/core/dataset.c '	if (n == 0)
		return 0;
	int rc = ds->st->ops->read(' '	if (n == 0)
		return 0;
	if (nd > 1 && ds->m.shape[0] > 1 && st[0] + ct[0] == ds->m.shape[0])
		return sr_fail(e, SIMREC_EIO, "mutated: the last step");
	int rc = ds->st->ops->read('
}
what[verify_whole]="simrec verify always says whole"
tests[verify_whole]='^(cli|mpi_verify_repair|repair_foreign|repair_value_hdf5|read_corrupt_hdf5|hostile_zarr)$'
m_verify_whole() {
	edit src/cli/verify.c '	if (!torn) {
		printf("ok    %s: %zu record(s) %s ",' '	torn = 0;
	if (!torn) {
		printf("ok    %s: %zu record(s) %s ",'
}
what[token_stuck]="the fencing token stuck at 1"
tests[token_stuck]='^(redis_start|lock_fence|lock_hammer|lock_store_fence_zarr_dir|python_lock|safety|redis_stop|redis_pw_start|redis_pw_stop)$'
m_token_stuck() {
	edit src/lock/lock.c "\"return redis.call('INCR', KEYS[4])\";" \
		"\"redis.call('SET', KEYS[4], 1) return 1\";"
}
what[password_shown]="passwords not masked (simrec_uri_masked copies the text)"
tests[password_shown]='^(redis_pw_start|safety|redis_pw_stop|env_promises)$'
m_password_shown() {
	edit src/common/redact.c '	if (!text)
		return out;
	size_t len = 0;' '	if (!text)
		return out;
	size_t n = strlen(text) < cap ? strlen(text) : cap - 1;
	memcpy(out, text, n);
	out[n] = 0;
	if (cap)
		return out;
	size_t len = 0;'
}
what[empty_corpus]="an empty fuzz corpus (the seeds of fuzz_chunk deleted)"
tests[empty_corpus]='^fuzz_replay_fuzz_chunk$'
m_empty_corpus() {
	save tests/fuzz/fuzz_chunk
	find "$tree/tests/fuzz/fuzz_chunk" -type f -delete
}
what[close_rank1]="simrec_close failing on rank 1 only"
tests[close_rank1]='^(interop_mpi_memory_np2_m1|interop_mpi_zarr_dir_np2_m1|mpi_record_all_memory_np2_m1|python_record_all_np2)$'
m_close_rank1() {
	edit src/mpi/record_all.c '	if (rec->opts.io_summary)
		print_summary(rec);
	return rc;' '	if (rec->opts.io_summary)
		print_summary(rec);
	return rec->rank == 1 ? SIMREC_EIO : rc;'
}
what[verify_off_by_one]="the whole-step count of a torn dataset one too high (the commit mark off by one)"
tests[verify_off_by_one]='^(mpi_verify_repair|repair_foreign|mpi_kill_writer_zarr_dir)$'
m_verify_off_by_one() {
	edit src/core/dataset.c '	return ds->st->ops->check(ds->st, ds->h, &ds->m, whole);' '	int mrc = ds->st->ops->check(ds->st, ds->h, &ds->m, whole);
	if (mrc == SIMREC_EFORMAT)
		++*whole;
	return mrc;'
}

what[global_overlap]="record_global lets overlapping blocks through"
tests[global_overlap]='^(mpi_global_zarr_np2|mpi_global_memory|python_global_zarr_np3)$'
m_global_overlap() {
	edit src/core/plan.c '			if (!overlap(ndim, a, &b[ord[j].rank], &o))
				continue;' '			if (1 || !overlap(ndim, a, &b[ord[j].rank], &o))
				continue;'
}
what[global_uncovered]="record_global lets a region no rank covers through (no fill value)"
tests[global_uncovered]='^(mpi_global_zarr_np2|mpi_global_memory|python_global_zarr_np3)$'
m_global_uncovered() {
	edit src/core/plan.c '	if (covered != total && !fill)' '	if (covered != total && !fill && 0)'
}
what[global_shifted]="the two-phase exchange puts rank 1's piece one row off"
tests[global_shifted]='^(mpi_global_zarr_np2|mpi_global_zarr_dir_np7|example_heat2d_ranks)$'
m_global_shifted() {
	edit src/mpi/move_two_phase.c '		starts[0] -= row0;' '		starts[0] -= row0;
		if (r == 1 && starts[0] + p.count[0] < sizes[0])
			starts[0]++;'
}

what[global_check_cache]="record_global skips the block checks once any blocks were remembered"
tests[global_check_cache]='^(mpi_global_zarr_np2|mpi_global_memory)$'
m_global_check_cache() {
	edit src/mpi/record_global.c 'g->nlast == len && !memcmp(g->last, all, len)' 'g->nlast == len'
}

what[joined_leftovers]="rows a crash left past a joined array's counts are kept (not cut)"
tests[joined_leftovers]='^python_global$'
m_joined_leftovers() {
	edit src/core/joined.c '	return m.shape[0] > sum ? sr_truncate_local(rec, key, sum) : 0;' '	return 0;'
}
what[swmr_extent_early]="a SWMR writer puts a grown extent in the file before the step's data"
tests[swmr_extent_early]='^(mpi_swmr_serial|mpi_swmr_mpi)$'
m_swmr_extent_early() {
	edit src/store/hdf5/dataset.c '	rc = h5_extend(st, d, m);
	return rc ? h5_poison(st, rc) : 0;' '	rc = h5_extend(st, d, m);
	h5_swmr_uncork(st, H5I_INVALID_HID);
	H5Fflush(((h5_store *)st->impl)->file, H5F_SCOPE_GLOBAL);
	return rc ? h5_poison(st, rc) : 0;'
}
what[swmr_no_refresh]="simrec's SWMR reader never reloads a dataset's extent"
tests[swmr_no_refresh]='^mpi_swmr_serial$'
m_swmr_no_refresh() {
	edit src/store/hdf5/swmr.c '		H5Drefresh(dset);' '		(void)dset;'
}
what[swmr_never_started]="?swmr=1 never starts SWMR writing"
tests[swmr_never_started]='^(mpi_swmr_serial|mpi_swmr_mpi|mpi_swmr_kill)$'
m_swmr_never_started() {
	edit src/store/hdf5/swmr.c '	if (H5Fstart_swmr_write(h->file) < 0)' '	if (0)'
}

# ---- run -------------------------------------------------------------------
run=("$@")
[ ${#run[@]} -gt 0 ] || run=("${mutations[@]}")
for m in "${run[@]}"; do
	[ -n "${what[$m]:-}" ] || { echo "no mutation $m (have: ${mutations[*]})"; exit 2; }
done
t0=$SECONDS
echo "copy: $tree"
cmake -S "$tree" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DSIMREC_WERROR=ON -DSIMREC_BUILD_BENCH=OFF >"$tmp/cmake.log"
cmake --build "$build" -j"$jobs" >"$tmp/build.log" 2>&1 ||
	{ tail -30 "$tmp/build.log"; exit 1; }
# failed_tests LOG: the names ctest lists as failed (or timed out)
failed_tests() {
	awk '/tests FAILED:/ {on = 1; next}
		on && /^[ \t]+[0-9]+ - / {sub(/^[ \t]+[0-9]+ - /, ""); sub(/ \(.*$/, ""); print}' "$1" |
		grep -v -x 'redis_start\|redis_stop\|redis_pw_start\|redis_pw_stop' | paste -sd ' ' -
}
# the unmutated copy passes every test the table names
all=$(for m in "${run[@]}"; do printf '%s\n' "${tests[$m]}"; done |
	sed 's/^\^(//; s/)\$$//; s/^\^//; s/\$$//' | tr '|' '\n' | sort -u | paste -sd '|' -)
echo "baseline: ctest -R '^($all)\$'"
if ! (cd "$build" && ctest -j"$jobs" -R "^($all)\$" >"$tmp/baseline.log" 2>&1); then
	echo "the unmutated copy fails: $(failed_tests "$tmp/baseline.log")"
	exit 1
fi
missed=0
table=$tmp/table
: >"$table"
for m in "${run[@]}"; do
	: >"$tmp/undo.list"
	"m_$m"
	ts=$SECONDS
	if ! cmake --build "$build" -j"$jobs" >"$tmp/build.$m.log" 2>&1; then
		tail -20 "$tmp/build.$m.log"
		echo "mutation $m does not build"
		exit 1
	fi
	rc=0
	(cd "$build" && ctest -j"$jobs" -R "${tests[$m]}" >"$tmp/ctest.$m.log" 2>&1) || rc=$?
	# no failed test is the finding to report, not an error of the script
	caught=$(failed_tests "$tmp/ctest.$m.log") || caught=
	if [ "$rc" = 0 ] || [ -z "$caught" ]; then
		caught="NOTHING"
		missed=$((missed + 1))
	fi
	printf '| %s | %s | %s | %ss |\n' "$m" "${what[$m]}" "$caught" $((SECONDS - ts)) | tee -a "$table"
	undo
done
echo
echo "| mutation | what it breaks | tests that failed | time |"
echo "| --- | --- | --- | --- |"
cat "$table"
echo "mutate: ${#run[@]} mutation(s), $missed caught by nothing, $((SECONDS - t0)) s"
[ "$missed" = 0 ]
