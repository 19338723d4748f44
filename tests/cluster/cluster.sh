#!/usr/bin/env bash
# tests/cluster/cluster.sh - a throw-away multi-node Slurm cluster on this
# one machine, for nidec's cluster tests (tests/cluster/t*.sh).
#
# Each "node" is a Linux network namespace with its own hostname (a UTS
# namespace) and its own /tmp and /etc/hosts (a mount namespace): a head
# node (slurmctld, and the bridge that is the cluster's network) and N
# compute nodes (one slurmd each, started with -N nodeX), joined by veth
# pairs.  Addresses
# exist only inside these namespaces: the machine's own network is not
# touched.  Every node sees the same file system (the shared file system of
# a real cluster): jobs must work in a directory outside /tmp.  One munged,
# on a socket in the cluster's directory, serves every node (a Unix socket
# is reached through the file system, whatever the network namespace).
#
# Usage:  cluster.sh start|stop|check|status|env
#         cluster.sh head CMD...        run CMD on the head node (sbatch, squeue, ...)
#         cluster.sh on NODE CMD...     run CMD on compute node NODE (node1, ...)
#         cluster.sh kill-node NODE     a node failure: its link down, then
#                                       SIGKILL to every process of its namespace
#         cluster.sh revive-node NODE   the node back: link up, a new slurmd
#         cluster.sh wait JOBID...      until the jobs end; 0 if all COMPLETED 0:0
#
#   start   create the namespaces and the network, start munged, slurmctld and
#           the slurmds, wait until every node is idle.  Everything created is
#           recorded in $DIR/created, so that `stop` removes exactly that.
#   stop    cancel the cluster's jobs, stop the daemons it started (by recorded
#           PID), kill what is left in its namespaces and delete them.  Safe to
#           call twice, or after a failed start.
#   check   exit 0 if `start` can work here, else print why not (root, iproute2,
#           nsenter, unshare, namespaces allowed, the Slurm and munge packages).
#
# Environment:
#   NIDEC_CLUSTER_DIR    config, state, logs, the munge socket [/var/tmp/nidec-cluster]
#   NIDEC_CLUSTER_NODES  compute nodes, 2 or 3 [3]
#   NIDEC_CLUSTER_CPUS   CPUs each node advertises [4] (more than the machine has:
#                        SlurmdParameters=config_overrides)
#   NIDEC_CLUSTER_MEM    RealMemory (MB) each node advertises [16000]
#   NIDEC_CLUSTER_NO_APT 1 = never apt-get the packages [0]
#
# What bounds a node failure (slurm.conf below): slurmctld pings each slurmd
# every SlurmdTimeout/3 s and sets a node that has not answered for
# SlurmdTimeout (10 s) DOWN; each ping waits MessageTimeout (5 s) at most; the
# job on it is then killed on its other nodes (SIGTERM, SIGKILL KillWait = 5 s
# later) and, submitted with --requeue, requeued.  So a job on a dead node
# ends within about SlurmdTimeout + MessageTimeout + KillWait + a ping period
# (here: requeued about 20 s after the failure, its nodes free 25-45 s after
# it, tests/cluster/t6100; with Slurm's defaults 300 + 10 + 30 s).
set -euo pipefail

DIR=${NIDEC_CLUSTER_DIR:-/var/tmp/nidec-cluster}
N=${NIDEC_CLUSTER_NODES:-3}
CPUS=${NIDEC_CLUSTER_CPUS:-4}
MEM=${NIDEC_CLUSTER_MEM:-16000}
CONF=$DIR/etc/slurm.conf
NET=10.213.0
PKGS=(munge slurmctld slurmd slurm-client libpmix-dev)
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${PATH:-}"
export SLURM_CONF=$CONF

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

nodes() { local i; for ((i = 1; i <= N; i++)); do echo "node$i"; done; }
# the namespace of a node: a prefix unique to this cluster (recorded at start)
prefix() { cat "$DIR/prefix" 2>/dev/null || die "no cluster in $DIR (run start)"; }
ns_of() { echo "$(prefix)-$1"; }
addr_of() { case $1 in head) echo "$NET.1" ;; node*) echo "$NET.$((10 + ${1#node}))" ;; esac; }

record() { echo "$*" >>"$DIR/created"; }

# in_ns NAME CMD...: CMD in NAME's network namespace, with NAME as hostname
# and a private /tmp ($DIR/tmp/NAME bind-mounted, as a node's local disk)
in_ns() {
	local name=$1
	shift
	(exec_ns "$name" "$@")
}
# exec_ns NAME CMD...: the same, replacing this shell (daemons: the PID stays
# CMD's).  nsenter, not `ip netns exec`, which mounts a new /sys without the
# cgroup hierarchies slurmd needs; the node's /etc/hosts is bind-mounted here.
exec_ns() {
	local name=$1
	shift
	exec nsenter --net="/run/netns/$(ns_of "$name")" unshare --uts --mount --propagation private \
		/bin/sh -c 'hostname "$1" && mount --bind "$2" /tmp && mount --bind "$3" /etc/hosts && shift 3 && exec "$@"' \
		sh "$name" "$DIR/tmp/$name" "$DIR/etc/hosts" "$@"
}

pkgs_missing() {
	local p miss=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || miss+=("$p")
	done
	echo "${miss[@]:-}"
}

do_check() {
	[ "$(id -u)" = 0 ] || { echo "not root (network namespaces and the daemons need root)"; return 1; }
	command -v ip >/dev/null || { echo "no 'ip' (iproute2)"; return 1; }
	command -v unshare >/dev/null || { echo "no 'unshare' (util-linux)"; return 1; }
	command -v nsenter >/dev/null || { echo "no 'nsenter' (util-linux)"; return 1; }
	local probe="nidec-probe-$$"
	if ! ip netns add "$probe" 2>/dev/null; then
		echo "cannot create a network namespace here (ip netns add failed)"
		return 1
	fi
	local ok=1
	nsenter --net="/run/netns/$probe" unshare --uts --mount --propagation private \
		/bin/sh -c 'hostname probe && mount --bind /var/tmp /mnt' 2>/dev/null || ok=0
	ip netns del "$probe" 2>/dev/null || true
	[ $ok = 1 ] || { echo "cannot enter a network namespace with its own hostname (unshare --uts --mount)"; return 1; }
	local miss; miss=$(pkgs_missing)
	if [ -n "$miss" ]; then
		[ "${NIDEC_CLUSTER_NO_APT:-0}" = 1 ] && { echo "missing packages: $miss (NIDEC_CLUSTER_NO_APT=1)"; return 1; }
		command -v apt-get >/dev/null || { echo "missing packages: $miss, and no apt-get"; return 1; }
	fi
	return 0
}

install_pkgs() {
	local miss; miss=$(pkgs_missing)
	[ -z "$miss" ] && return 0
	[ "${NIDEC_CLUSTER_NO_APT:-0}" = 1 ] && die "missing packages: $miss"
	log "installing: $miss"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $miss >"$DIR/log/apt.log" 2>&1 ||
		{ apt-get update -q >>"$DIR/log/apt.log" 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $miss >>"$DIR/log/apt.log" 2>&1; } ||
		die "apt-get install failed (see $DIR/log/apt.log)"
}

write_conf() {
	local n
	{
		echo "# written by tests/cluster/cluster.sh on $(date -u +%FT%TZ): a test cluster in namespaces"
		cat <<EOF
ClusterName=nidectest
SlurmctldHost=head($NET.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.sock
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# schedule at once (a requeued job, a dependency), not after the default 60 s
SchedulerParameters=sched_interval=2,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
DependencyParameters=kill_invalid_depend
MinJobAge=3600
MailProg=/bin/true
# a node failure ends the job within about SlurmdTimeout + MessageTimeout +
# KillWait (see the header of tests/cluster/cluster.sh)
SlurmdTimeout=10
MessageTimeout=5
KillWait=5
TCPTimeout=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd-%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
EOF
		for n in $(nodes); do
			echo "NodeName=$n NodeAddr=$(addr_of "$n") CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM State=UNKNOWN"
		done
		echo "PartitionName=main Nodes=node[1-$N] Default=YES MaxTime=INFINITE State=UP"
	} >"$CONF.new"
	mv -f "$CONF.new" "$CONF"
}

write_hosts() {  # bind-mounted on /etc/hosts in every node (exec_ns)
	local n
	{
		echo "127.0.0.1 localhost"
		echo "$NET.1 head"
		for n in $(nodes); do echo "$(addr_of "$n") $n"; done
	} >"$DIR/etc/hosts"
}

make_network() {
	local p n ns i
	p=$(prefix)
	ip netns add "$p-head"
	record netns "$p-head"
	ip -n "$p-head" link set lo up
	ip -n "$p-head" link add br0 type bridge
	ip -n "$p-head" addr add "$NET.1/24" dev br0
	ip -n "$p-head" link set br0 up
	for n in $(nodes); do
		i=${n#node}
		ns="$p-$n"
		ip netns add "$ns"
		record netns "$ns"
		ip -n "$ns" link set lo up
		# the pair is made inside the head namespace: nothing appears in the machine's own
		ip -n "$p-head" link add "veth$i" type veth peer name eth0 netns "$ns"
		ip -n "$p-head" link set "veth$i" master br0
		ip -n "$p-head" link set "veth$i" up
		ip -n "$ns" addr add "$(addr_of "$n")/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}

# spawn NAME NODE CMD...: CMD as a daemon on NODE ("-": the machine itself)
spawn() {
	local name=$1 node=$2 pid
	shift 2
	if [ "$node" = - ]; then
		setsid "$@" >>"$DIR/log/$name.stderr" 2>&1 </dev/null &
	else
		setsid bash "$0" _in "$node" "$@" >>"$DIR/log/$name.stderr" 2>&1 </dev/null &
	fi
	pid=$!
	record pid "$name" "$pid"
	echo "$pid" >"$DIR/run/$name.spawned"
}

munge_ok() { munge -n -S "$DIR/munge/munge.sock" 2>/dev/null | unmunge -S "$DIR/munge/munge.sock" >/dev/null 2>&1; }
ctld_up() { in_ns head scontrol ping 2>/dev/null | grep -q 'is UP'; }

do_start() {
	[ "$(id -u)" = 0 ] || die "must run as root"
	[ ! -s "$DIR/created" ] || die "a cluster is recorded in $DIR already (stop it first)"
	case $N in 2 | 3) ;; *) die "NIDEC_CLUSTER_NODES must be 2 or 3" ;; esac
	mkdir -p "$DIR"/{etc,state,spool,run,log,munge}
	chmod 0755 "$DIR" "$DIR/munge" "$DIR/etc"
	install_pkgs
	echo "nidec$(printf '%05d' $(($$ % 100000)))" >"$DIR/prefix"
	: >"$DIR/created"
	local n
	for n in head $(nodes); do
		mkdir -p "$DIR/tmp/$n" "$DIR/spool/$n"
		chmod 1777 "$DIR/tmp/$n"
	done
	make_network
	write_hosts
	write_conf

	mungekey --create --keyfile="$DIR/munge/munge.key" --force 2>/dev/null
	chmod 0400 "$DIR/munge/munge.key"
	spawn munged - /usr/sbin/munged -F --socket="$DIR/munge/munge.sock" --key-file="$DIR/munge/munge.key" \
		--pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
	for _ in $(seq 50); do munge_ok && break; sleep 0.2; done
	munge_ok || die "munged does not answer (see $DIR/log/munged.log)"

	spawn slurmctld head /usr/sbin/slurmctld -D -i -f "$CONF"
	for _ in $(seq 100); do ctld_up && break; sleep 0.2; done
	ctld_up || { tail -20 "$DIR/log/slurmctld.log" >&2 || true; die "slurmctld does not answer"; }
	for n in $(nodes); do
		spawn "slurmd-$n" "$n" /usr/sbin/slurmd -D -f "$CONF" -N "$n"
	done
	local t st
	for ((t = 0; t < 120; t++)); do
		for n in $(nodes); do
			[ -d "/proc/$(cat "$DIR/run/slurmd-$n.spawned")" ] ||
				{ tail -n 5 "$DIR/log/slurmd-$n.log" >&2 || true; die "slurmd on $n exited"; }
		done
		st=$(in_ns head sinfo -h -N -o '%N %T' 2>/dev/null | sort -u)
		if [ "$(echo "$st" | grep -cE ' (idle|mixed|allocated)$')" = "$N" ]; then
			log "up: $N nodes idle ($(echo "$st" | tr '\n' ' '))"
			return 0
		fi
		sleep 0.5
	done
	echo "$st" >&2
	tail -n 5 "$DIR"/log/slurmd-*.log >&2 || true
	die "the nodes did not become idle in 60 s"
}

# kill_ns NS: SIGKILL every process whose network namespace is NS (only
# namespaces this script made, so only processes it started or their children)
kill_ns() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
	[ -n "${pids// }" ] || return 0
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
}

do_stop() {
	[ -s "$DIR/created" ] || { log "nothing recorded in $DIR/created"; return 0; }
	local kind a b
	if [ -e "$DIR/prefix" ] && ctld_up; then
		local ids; ids=$(in_ns head squeue -h -o '%i' 2>/dev/null | tr '\n' ' ' || true)
		if [ -n "${ids// }" ]; then
			log "cancelling: $ids"
			# shellcheck disable=SC2086
			in_ns head scancel $ids 2>/dev/null || true
		fi
	fi
	# the daemons, newest first: TERM, then KILL what is left
	tac "$DIR/created" | while read -r kind a b; do
		[ "$kind" = pid ] || continue
		kill -TERM "$b" 2>/dev/null || true
	done
	sleep 1
	tac "$DIR/created" | while read -r kind a b; do
		case $kind in
		pid) kill -KILL "$b" 2>/dev/null || true ;;
		netns) kill_ns "$a" ;;
		esac
	done
	sleep 0.3
	tac "$DIR/created" | while read -r kind a b; do
		case $kind in
		netns) kill_ns "$a"; ip netns del "$a" 2>/dev/null || true ;;
		esac
	done
	# what munged left, if it was killed
	rm -f "$DIR/munge/munge.sock" "$DIR/munge/munge.sock.lock"
	mv -f "$DIR/created" "$DIR/created.stopped"
	log "stopped; logs in $DIR/log"
}

do_status() {
	local kind a b rc=0
	[ -s "$DIR/created" ] || { echo "no cluster in $DIR"; return 1; }
	while read -r kind a b; do
		case $kind in
		pid) if [ -d "/proc/$b" ]; then echo "$a: pid $b"; else echo "$a: not running"; rc=1; fi ;;
		netns) ip netns list | grep -q "^$a\b" && echo "netns $a" || { echo "netns $a: missing"; rc=1; } ;;
		esac
	done <"$DIR/created"
	in_ns head sinfo -N 2>/dev/null || rc=1
	return $rc
}

do_kill_node() {
	local ns i
	ns=$(ns_of "$1")
	i=${1#node}
	# first the link, as when a node loses power: no FIN or RST reaches the
	# others, which see silence; then every process of the node
	ip -n "$(ns_of head)" link set "veth$i" down
	ip -n "$ns" link set eth0 down
	kill_ns "$ns"
	log "$1: link down, processes killed"
}

do_revive_node() {
	local i=${1#node}
	ip -n "$(ns_of head)" link set "veth$i" up
	ip -n "$(ns_of "$1")" link set eth0 up
	spawn "slurmd-$1" "$1" /usr/sbin/slurmd -D -f "$CONF" -N "$1"
	local t st
	for ((t = 0; t < 120; t++)); do
		st=$(in_ns head sinfo -h -N -n "$1" -o '%T' 2>/dev/null | head -n 1)
		case $st in
		idle | mixed | allocated) log "$1: back ($st)"; return 0 ;;
		down* | *drain*) in_ns head scontrol update nodename="$1" state=resume 2>/dev/null || true ;;
		esac
		sleep 0.5
	done
	die "$1 not idle 60 s after its revival (state '$st')"
}

do_wait() {
	local j lines rc=0 l st ec code
	for j in "$@"; do
		while :; do
			lines=$(in_ns head scontrol -o show job "$j" 2>/dev/null) || die "job $j: unknown to slurmctld"
			grep -qE 'JobState=(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|REQUEUE_HOLD|RESIZING|SIGNALING|STAGE_OUT)' <<<"$lines" || break
			sleep 1
		done
		while IFS= read -r l; do
			st=$(grep -o 'JobState=[A-Z_]*' <<<"$l" | cut -d= -f2)
			ec=$(grep -o ' ExitCode=[0-9]*:[0-9]*' <<<"$l" | cut -d= -f2)
			echo "$(grep -o 'JobId=[0-9]*' <<<"$l" | head -1)$(grep -o ' ArrayTaskId=[0-9]*' <<<"$l" || true) $st ExitCode=$ec"
			if [ "$st" != COMPLETED ] || [ "${ec:-0:0}" != 0:0 ]; then
				code=${ec%%:*}
				[ "${code:-0}" = 0 ] && code=1
				[ "$rc" = 0 ] && rc=$code
			fi
		done <<<"$lines"
	done
	return "$rc"
}

case "${1:-}" in
start) do_start ;;
stop) do_stop ;;
check) do_check ;;
status) do_status ;;
env) echo "export SLURM_CONF=$CONF" ;;
head) shift; in_ns head "$@" ;;
on) shift; n=$1; shift; in_ns "$n" "$@" ;;
_in) shift; n=$1; shift; exec_ns "$n" "$@" ;;
kill-node) do_kill_node "$2" ;;
revive-node) do_revive_node "$2" ;;
wait) shift; do_wait "$@" ;;
*) sed -n '2,/^[^#]/{/^#/p}' "$0" >&2; exit 2 ;;
esac
