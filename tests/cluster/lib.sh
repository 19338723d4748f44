# tests/cluster/lib.sh - what the multi-node scripts (tests/cluster/t*.sh)
# share: tests/lib.sh, then a cluster of NODES nodes started for the
# script (tests/cluster/cluster.sh) and stopped when it exits, whatever
# happens (a trap), or a skip with the reason when it cannot start here.
#
#   NODES=3 . "$(dirname "$0")/lib.sh"
#   test_expect_success '...' '
#       j=$(on_head sbatch --parsable -N 2 -n 4 job.sh) && cluster_wait $j
#   '
#   cluster_done                  (instead of test_done: stops the cluster first)
#
# The scratch directory ($TRASH) is on the shared file system every node
# sees (/var/tmp, or NIDEC_CLUSTER_SHARED), never under /tmp, which is each
# node's own.  Helpers:
#   on_head CMD...            CMD on the head node (sbatch, squeue, scontrol, scancel)
#   on_node NODE CMD...       CMD on a compute node (node1, node2, node3)
#   cluster_wait JOBID...     until the jobs end (1 s polling); prints each
#                             one's state and exit code, 0 if all COMPLETED 0:0
#   job_state JOBID           JobState=... Restarts=N of a job, one line
#   node_pids NODE NAME       pids of the processes called NAME on NODE
#   requeued JOBID            wait until a requeued job is pending, then let
#                             it start 2 s later, not after Slurm's delay
#   log_has FILE PATTERN      wait (60 s at most) until FILE has a line matching
#   same_files A B            the result files of two output directories are
#                             byte-identical (every *.tsv and *.nii.gz of A)
# Environment: NIDEC_CLUSTER=0 skips the scripts; NIDEC_CLUSTER_KEEP=1 leaves
# the cluster running (and its directory) for a look after a failure.

# the scratch directory on the shared file system, then TMPDIR as it was
_cluster_tmpdir=${TMPDIR-}
TMPDIR=${NIDEC_CLUSTER_SHARED:-/var/tmp}
. "$(dirname "$0")/../lib.sh"
if [ -n "$_cluster_tmpdir" ]; then TMPDIR=$_cluster_tmpdir; else unset TMPDIR; fi

CLUSTER_SH="$TESTS_DIR/cluster/cluster.sh"
RSH_AGENT="$TESTS_DIR/cluster/rsh-agent.sh"
JOBS="$REPO_DIR/jobs"
export NIDEC_CLUSTER_DIR="$TRASH/.cluster"
export NIDEC_CLUSTER_NODES=${NODES:-3}
export SLURM_CONF="$NIDEC_CLUSTER_DIR/etc/slurm.conf"
export NIDEC

on_head() { bash "$CLUSTER_SH" head "$@"; }
on_node() { bash "$CLUSTER_SH" on "$@"; }
cluster_wait() { bash "$CLUSTER_SH" wait "$@"; }

job_state() {
	on_head scontrol -o show job "$1" | grep -oE "JobState=[A-Z_]+|Restarts=[0-9]+" | tr '\n' ' '
}

node_pids() {
	for p in $(ip netns pids "$(cat "$NIDEC_CLUSTER_DIR/prefix")-$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && echo "$p"
	done
	return 0
}

requeued() {
	i=0
	while [ $i -lt 120 ]; do
		case $(job_state "$1") in
		*JobState=PENDING*Restarts=[1-9]*)
			on_head scontrol update JobId="$1" StartTime=now+2
			return 0 ;;
		esac
		sleep 1
		i=$((i + 1))
	done
	return 1
}

log_has() {
	i=0
	while [ $i -lt 600 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "log_has: no '$2' in $1 after 60 s" >&2
	return 1
}

same_files() {
	n=0
	for f in "$1"/*.tsv "$1"/*.nii.gz; do
		[ -e "$f" ] || continue
		cmp "$f" "$2/${f##*/}" || return 1
		n=$((n + 1))
	done
	[ $n -gt 0 ] || { echo "same_files: no result file in $1" >&2; return 1; }
}

cluster_stop_() {
	[ -s "$NIDEC_CLUSTER_DIR/created" ] || return 0
	if [ "${NIDEC_CLUSTER_KEEP:-0}" = 1 ]; then
		say "# cluster kept running: NIDEC_CLUSTER_DIR=$NIDEC_CLUSTER_DIR bash $CLUSTER_SH stop"
		return
	fi
	bash "$CLUSTER_SH" stop >"$TRASH/cluster-stop.log" 2>&1 ||
		say "# cluster.sh stop failed: see $TRASH/cluster-stop.log"
}

# the cluster's directory is in $TRASH: stop it before test_done removes that
cluster_done() {
	cluster_stop_
	trap - EXIT
	test_done
}

if [ "${NIDEC_CLUSTER:-1}" = 0 ]; then
	test_skip "$SCRIPT: a multi-node cluster" 'NIDEC_CLUSTER=0'
	test_done
	exit
fi
# every node has a private /tmp (its local disk): the checkout and the
# binary must be on the shared file system, as on a real cluster
case "$REPO_DIR/:$NIDEC" in
/tmp/* | *:/tmp/*)
	test_skip "$SCRIPT: a multi-node cluster in network namespaces" \
		"the checkout or NIDEC is under /tmp, which each node has of its own (a node's local disk): run the cluster tests from a checkout outside /tmp"
	test_done
	exit
	;;
esac
if ! why=$(bash "$CLUSTER_SH" check 2>&1); then
	test_skip "$SCRIPT: a multi-node cluster in network namespaces" "cannot start one here: $why"
	test_done
	exit
fi
# the munge socket is in $TRASH/.cluster: every directory above it must be
# searchable (munged refuses it otherwise)
chmod 0755 "$TRASH"
trap 'cluster_stop_' EXIT
trap 'exit 130' INT TERM
test_expect_success "start a cluster of $NIDEC_CLUSTER_NODES nodes" '
	bash "$CLUSTER_SH" start
'
if [ "$test_failed" != 0 ]; then
	cluster_done
	exit 1
fi
