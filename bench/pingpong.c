/*
 * bench/pingpong.c - what one MPI message costs between two ranks: rank 0
 * sends `size` bytes to rank 1, which sends them back, `reps` times per
 * size; half the median round trip is one message (the median: on a shared
 * machine some round trips wait for a core).  bench/cluster.sh runs it with
 * the two ranks on two nodes of the test cluster (TCP over the veth pairs
 * and bridge of tests/cluster/cluster.sh) and on one node (shared memory),
 * and feeds the fitted latency and bandwidth to bench/simulate.py.
 *
 * Output, one line per size:  size_bytes  one_way_us (median)
 * then:  latency_us=L bandwidth_MBps=B  (L: the smallest size's one-way
 * time; B: from the largest size, (size) / (time - L)).
 * Not part of nidec (no nidec headers): mpicc bench/pingpong.c.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 8, 64, 512, 4096, 32768, 262144, 1048576, 4194304 };
	const int n_sizes = (int)(sizeof(sizes) / sizeof(sizes[0]));
	double lat = 0, t_big = 0, *t;
	char *buf;
	int rank, size, i, k;

	if (MPI_Init(&argc, &argv) != MPI_SUCCESS)
		return 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (size != 2) {
		if (rank == 0)
			fprintf(stderr, "pingpong: run it on exactly 2 ranks\n");
		MPI_Finalize();
		return 2;
	}
	buf = malloc((size_t)sizes[n_sizes - 1]);
	t = malloc(2000 * sizeof(double));
	if (!buf || !t)
		MPI_Abort(MPI_COMM_WORLD, 1);
	memset(buf, 1, (size_t)sizes[n_sizes - 1]);
	for (i = 0; i < n_sizes; i++) {
		int reps = sizes[i] <= 4096 ? 2000 : sizes[i] <= 262144 ? 200 : 40;
		/* warm up the connection and the buffers */
		for (k = -10; k < reps; k++) {
			double t0 = MPI_Wtime();
			if (rank == 0) {
				MPI_Send(buf, sizes[i], MPI_CHAR, 1, 0, MPI_COMM_WORLD);
				MPI_Recv(buf, sizes[i], MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			} else {
				MPI_Recv(buf, sizes[i], MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				MPI_Send(buf, sizes[i], MPI_CHAR, 0, 0, MPI_COMM_WORLD);
			}
			if (k >= 0)
				t[k] = (MPI_Wtime() - t0) / 2;
		}
		/* the median round trip: a shared machine preempts some of them */
		qsort(t, (size_t)reps, sizeof(double), cmp_double);
		if (rank == 0)
			printf("%d %.2f\n", sizes[i], t[reps / 2] * 1e6);
		if (i == 0)
			lat = t[reps / 2];
		if (i == n_sizes - 1)
			t_big = t[reps / 2];
	}
	if (rank == 0)
		printf("latency_us=%.2f bandwidth_MBps=%.1f\n", lat * 1e6,
		       sizes[n_sizes - 1] / (t_big - lat) / 1e6);
	free(buf);
	free(t);
	MPI_Finalize();
	return 0;
}
