#!/bin/sh
# tests/cluster/rsh-agent.sh - Open MPI's "ssh" to the nodes of the test
# cluster (tests/cluster/cluster.sh): `mpirun --mca plm_rsh_agent
# tests/cluster/rsh-agent.sh --host node1,node2 ...` starts its orted on a
# node as ssh would, through the node's namespaces instead of a network
# login.  Called as `rsh-agent.sh HOST COMMAND...`; the command is a
# string for the remote shell, as with ssh.  NIDEC_CLUSTER_DIR names the
# cluster.
host=$1
shift
exec bash "$(dirname "$0")/cluster.sh" on "$host" /bin/sh -c "$*"
