# Hosts made of network namespaces on this machine, for MPI jobs that must
# see several nodes (sourced by mpi_tests/partition.sh and bench/ns_run.sh).
# Needs root. A host is namespace PREFIX-hI with address NET.I on one bridge
# (namespace PREFIX-br, veth vI); Open MPI reaches it through an rsh agent
# that runs the command in the namespace with the host's name as hostname.
#
#   nshosts_up PREFIX NET K DIR   make hosts 1..K, the agent in DIR, and
#                                 export the Open MPI settings that use them
#   nshosts_down PREFIX K         kill what runs in them and delete them
#   nshosts_on PREFIX I CMD...    run CMD in host I under its hostname
#   nshosts_stale BASE            delete the hosts of earlier runs killed
#                                 before their trap ran: namespaces
#                                 BASE<pid>-h<i> and BASE<pid>-br whose
#                                 <pid> is gone (PREFIX is BASE$$)
#
# nshosts_up sets the guard route first (no packet for NET.0/24 leaves the
# machine) and records in NSHOSTS_ROUTE whether it added it; nshosts_down
# removes it then. The caller traps nshosts_down on EXIT.

nshosts_up() {
	local p=$1 net=$2 k=$3 dir=$4 i h
	NSHOSTS_ROUTE=0
	if ! ip route show "$net.0/24" | grep -q .; then
		ip route replace blackhole "$net.0/24" || return 1
		NSHOSTS_ROUTE=$net
	fi
	ip netns add "$p-br" && ip -n "$p-br" link add br0 type bridge &&
		ip -n "$p-br" link set br0 up || return 1
	for i in $(seq 1 "$k"); do
		h=$p-h$i
		ip netns add "$h" &&
			ip link add name "v$i" netns "$p-br" type veth peer name eth0 netns "$h" &&
			ip -n "$p-br" link set "v$i" master br0 up &&
			ip -n "$h" addr add "$net.$i/24" dev eth0 &&
			ip -n "$h" link set eth0 up && ip -n "$h" link set lo up || return 1
	done
	# "HOST CMD..." runs CMD in HOST's namespace under HOST as hostname,
	# with a login's environment only (as ssh would): whatever the remote
	# daemon and ranks know, Open MPI forwarded itself
	cat >"$dir/agent.sh" <<AGENT
#!/bin/sh
h=\$1
shift
exec ip netns exec "\$h" unshare --uts env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \\
	sh -c 'hostname "\$0"; exec sh -c "\$1"' "\$h" "\$*"
AGENT
	chmod +x "$dir/agent.sh"
	export OMPI_MCA_plm_rsh_agent="$dir/agent.sh" OMPI_MCA_btl=tcp,self,vader \
		OMPI_MCA_oob_tcp_if_include="$net.0/24" OMPI_MCA_btl_tcp_if_include="$net.0/24"
}

nshosts_down() {
	local p=$1 k=$2 n pids
	for n in $(seq 1 "$k") br; do
		case $n in br) n=$p-br ;; *) n=$p-h$n ;; esac
		[ -e "/run/netns/$n" ] || continue
		pids=$(ip netns pids "$n")
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null || : # gone already
		ip netns del "$n"
	done
	if [ "${NSHOSTS_ROUTE:-0}" != 0 ]; then
		ip route del blackhole "$NSHOSTS_ROUTE.0/24"
		NSHOSTS_ROUTE=0
	fi
}

nshosts_on() {
	local p=$1 i=$2
	shift 2
	ip netns exec "$p-h$i" unshare --uts sh -c 'hostname "$0"; exec "$@"' \
		"$p-h$i" "$@"
}

nshosts_stale() {
	local base=$1 n pid pids
	for n in $(ip netns list | awk -v b="$base" \
		'index($1, b) == 1 && substr($1, length(b) + 1) ~ /^[0-9]+-(h[0-9]+|br)$/ {print $1}'); do
		pid=${n#"$base"}
		[ -d "/proc/${pid%%-*}" ] && continue
		pids=$(ip netns pids "$n")
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null || : # gone already
		ip netns del "$n"
	done
}
