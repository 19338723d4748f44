#!/bin/sh
# tests/cluster/rsh-agent.sh - Open MPI's "ssh" to the nodes of the test
# cluster (tests/cluster/cluster.sh): `mpirun --mca plm_rsh_agent
# tests/cluster/rsh-agent.sh --host node1,node2 ...` starts its orted on a
# node as ssh would, through the node's namespaces instead of a network
# login.  Called as `rsh-agent.sh HOST COMMAND...`; the command is a
# string for the remote shell, as with ssh.  NIDEC_CLUSTER_DIR names the
# cluster.
#
# Like ssh, this process stays on the calling node while the command runs
# on HOST.  When HOST dies (cluster.sh kill-node: its processes are
# SIGKILLed) a real ssh notices nothing until TCP gives up; so does this
# agent, which then waits until mpirun ends it, and mpirun learns of the
# node's death the way it does on a real cluster (its daemons' TCP
# keepalive, oob_tcp_keepalive_*).
host=$1
shift
bash "$(dirname "$0")/cluster.sh" on "$host" /bin/sh -c "$*" &
child=$!
trap 'kill -TERM $child 2>/dev/null; exit 143' TERM INT HUP
wait $child
rc=$?
# (exec: mpirun's TERM or KILL then reaches the sleep itself)
[ $rc = 137 ] && exec sleep 86400
exit $rc
