# Shared by enospc.sh and enospc_append.sh (sourced; they set bad()).

# Mounting a tmpfs needs root: anyone else runs the calling script again
# in a user namespace of their own (root there, with a private mount
# table; Open MPI's session directory in a fresh directory, since root's
# in /tmp is not theirs). If the system allows none, the test fails
# saying so.
as_root() {
	[ "$(id -u)" = 0 ] && return
	userns="unshare --user --map-root-user --mount"
	why=$($userns true 2>&1) || {
		echo "$(basename "$0" .sh): FAIL: not root, and no user namespace to mount a tmpfs in ($userns: $why)"
		exit 1
	}
	tmp=$(mktemp -d) || exit 1
	rc=0
	$userns env OMPI_MCA_orte_tmpdir_base="$tmp" bash "$0" "$@" || rc=$?
	rm -rf "$tmp"
	exit "$rc"
}

# cause_named MSG MOUNT: the failure names "no space left on device" and
# the path
cause_named() {
	case $1 in
	*"no space left on device"*"$2"* | *"$2"*"no space left on device"*) ;;
	*) bad "the cause or the path is not named: $1" ;;
	esac
}

# verify_or_repair SIMREC URI: simrec verify passes, or names torn steps
# that verify --repair cuts so that it passes
verify_or_repair() {
	vrc=0
	v=$("$1" verify "$2" 2>&1) || vrc=$?
	case $vrc in
	0) ;;
	1)
		sed '/^ok/d' <<<"$v"
		"$1" verify --repair "$2" >/dev/null 2>&1 &&
			"$1" verify "$2" >/dev/null 2>&1 ||
			bad "verify --repair did not make it whole"
		;;
	*) bad "verify cannot read it: $v" ;;
	esac
}
