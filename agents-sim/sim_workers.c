/*
 * sim_workers.c — the supervisor: resource planning, fork of the worker
 * processes, status line, signal forwarding and reaping. Owns the shared
 * counters mapping (MAP_SHARED, one struct sim_stats per worker; a worker
 * writes only its own slot, the supervisor only reads). Workers never
 * outlive the supervisor: each asks for SIGTERM when its parent dies
 * (PR_SET_PDEATHSIG) and exits at once if the parent is already gone.
 * Main thread.
 */
#include "sim_workers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sim_mqtt.h"

static volatile sig_atomic_t g_stop; /* set by SIGINT/SIGTERM */
static volatile int g_worker_stop;   /* the worker loop's flag */

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	g_worker_stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int sim_workers_plan(struct sim_config *cfg, struct uspc_err *err)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return uspc_err_set(err, -1, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return uspc_err_set(err, -1, "cannot raise the open-file limit to %llu: %s",
					    (unsigned long long)rl.rlim_max, strerror(errno));
	}
	uint64_t limit = rl.rlim_cur;
	uint64_t per =
		limit > SIM_FDS_RESERVED ? (limit - SIM_FDS_RESERVED) / SIM_FDS_PER_AGENT : 0;
	if (per > SIM_MAX_AGENTS_PER_WORKER)
		per = SIM_MAX_AGENTS_PER_WORKER;
	if (per == 0)
		return uspc_err_set(err, -1, "open-file limit %llu is too low for even one agent",
				    (unsigned long long)limit);
	uint32_t need = (uint32_t)((cfg->n_agents + per - 1) / per);
	if (cfg->workers == 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		uint32_t w = cfg->n_agents >= 1000 && ncpu > 1 ? (uint32_t)ncpu : 1;
		cfg->workers = w > need ? w : need;
	}
	if (cfg->workers > cfg->n_agents)
		cfg->workers = cfg->n_agents;
	if (cfg->workers < need)
		return uspc_err_set(
			err, -1,
			"%u agents do not fit in %u worker(s): each agent holds %d file "
			"descriptors and a process may open %llu, so at most %llu agents per "
			"worker; use --workers %u or more",
			cfg->n_agents, cfg->workers, SIM_FDS_PER_AGENT, (unsigned long long)limit,
			(unsigned long long)per, need);
	return 0;
}

static int worker_main(const struct sim_config *cfg, const struct sim_model *model, uint32_t first,
		       uint32_t count, uint32_t no, struct sim_stats *stats)
{
	struct sim_worker w;
	int rc = 1;
	if (sim_mqtt_lib_init() < 0) {
		log_error("sim", "worker %u: libmosquitto init failed", no);
		return 1;
	}
	if (sim_worker_init(&w, cfg, model, first, count, no, stats) == 0) {
		log_debug("sim", "worker %u: agents %u..%u", no, first, first + count - 1);
		rc = sim_worker_run(&w, &g_worker_stop) == 0 ? 0 : 1;
	}
	sim_worker_fini(&w);
	sim_mqtt_lib_cleanup();
	return rc;
}

static void print_status(const struct sim_config *cfg, const struct sim_stats *st, uint32_t n,
			 struct sim_stats *prev, double dt)
{
	struct sim_stats t = { 0 };
	for (uint32_t i = 0; i < n; i++) {
		t.agents += st[i].agents;
		t.online += st[i].online;
		t.connecting += st[i].connecting;
		t.rx += st[i].rx;
		t.tx += st[i].tx;
		t.dropped += st[i].dropped;
		t.errors_sent += st[i].errors_sent;
		t.notifs += st[i].notifs;
		t.notif_retries += st[i].notif_retries;
		t.notif_acked += st[i].notif_acked;
		t.connect_fail += st[i].connect_fail;
		t.disconnects += st[i].disconnects;
		t.boots += st[i].boots;
		for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++)
			t.notify_resp_us[b] += st[i].notify_resp_us[b];
	}
	uint64_t lat[SIM_HIST_BUCKETS]; /* this interval's NotifyResp latencies */
	for (unsigned b = 0; b < SIM_HIST_BUCKETS; b++)
		lat[b] = t.notify_resp_us[b] - prev->notify_resp_us[b];
	double rx_rate = dt > 0 ? (double)(t.rx - prev->rx) / dt : 0;
	double tx_rate = dt > 0 ? (double)(t.tx - prev->tx) / dt : 0;
	fprintf(stderr,
		"usp-agent-sim: agents %llu/%u online %llu connecting %llu | in %llu (%.0f/s) out %llu "
		"(%.0f/s) | dropped %llu errors-sent %llu | notify %llu acked %llu retries %llu "
		"notify_resp_p50_ms %llu notify_resp_p99_ms %llu | boots %llu "
		"conn-fail %llu disc %llu\n",
		(unsigned long long)t.agents, cfg->n_agents, (unsigned long long)t.online,
		(unsigned long long)t.connecting, (unsigned long long)t.rx, rx_rate,
		(unsigned long long)t.tx, tx_rate, (unsigned long long)t.dropped,
		(unsigned long long)t.errors_sent, (unsigned long long)t.notifs,
		(unsigned long long)t.notif_acked, (unsigned long long)t.notif_retries,
		(unsigned long long)sim_hist_quantile_ms(lat, 0.50),
		(unsigned long long)sim_hist_quantile_ms(lat, 0.99), (unsigned long long)t.boots,
		(unsigned long long)t.connect_fail, (unsigned long long)t.disconnects);
	*prev = t;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for all children; SIGKILL whoever is still there after grace_s. */
static int reap_all(pid_t *pids, uint32_t n, double grace_s)
{
	int rc = 0;
	double until = mono_s() + grace_s;
	uint32_t left = 0;
	for (uint32_t i = 0; i < n; i++)
		left += pids[i] > 0; /* a slot is 0 once reaped (e.g. a worker that died early) */
	while (left) {
		for (uint32_t i = 0; i < n; i++) {
			int status;
			if (pids[i] <= 0 || waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				rc = 1;
			pids[i] = 0;
			left--;
		}
		if (!left)
			break;
		if (mono_s() > until) {
			for (uint32_t i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			until = mono_s() + 5;
			rc = 1;
		}
		usleep(20000);
	}
	return rc;
}

int sim_workers_run(const struct sim_config *cfg, const struct sim_model *model, int run_for_s)
{
	uint32_t n = cfg->workers;
	struct sim_stats *stats = mmap(NULL, n * sizeof(*stats), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t *pids = calloc(n, sizeof(*pids));
	int rc = 0;
	if (stats == MAP_FAILED || !pids) {
		log_error("sim", "cannot allocate the worker table");
		free(pids);
		return 1;
	}
	memset(stats, 0, n * sizeof(*stats));
	install_signals();
	uint32_t base = cfg->n_agents / n, extra = cfg->n_agents % n, first = cfg->first_index;
	pid_t parent = getpid();
	for (uint32_t i = 0; i < n; i++) {
		uint32_t count = base + (i < extra ? 1 : 0);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			log_error("sim", "fork: %s", strerror(errno));
			g_stop = 1;
			rc = 1;
			break;
		}
		if (pid == 0) {
			free(pids);
			/* SIGTERM (a clean stop) when the supervisor dies, even by SIGKILL;
			 * the check closes the race of a parent dying before prctl */
			if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent) {
				log_error("sim", "worker %u: supervisor gone at start; exiting", i);
				exit(1);
			}
			/* exit(), not _exit(): stdio was flushed before fork, and the
			 * sanitizers report the worker at exit */
			exit(worker_main(cfg, model, first, count, i, &stats[i]));
		}
		pids[i] = pid;
		first += count;
	}
	log_info("sim", "%u agents in %u worker process(es), broker %s:%d", cfg->n_agents, n,
		 cfg->host, cfg->port);
	double start = mono_s(), last = start;
	struct sim_stats prev = { 0 };
	while (!g_stop) {
		usleep(100000);
		double now = mono_s();
		for (uint32_t i = 0; i < n; i++) {
			int status;
			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				log_error(
					"sim",
					"worker %u (pid %d) exited unexpectedly (%s %d); stopping",
					i, (int)pids[i], WIFEXITED(status) ? "status" : "signal",
					WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
				pids[i] = 0;
				g_stop = 1;
				rc = 1;
			}
		}
		if (cfg->status_interval > 0 && now - last >= cfg->status_interval) {
			print_status(cfg, stats, n, &prev, now - last);
			last = now;
		}
		if (run_for_s > 0 && now - start >= run_for_s)
			g_stop = 1;
	}
	for (uint32_t i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	if (reap_all(pids, n, 10.0))
		rc = 1;
	if (cfg->status_interval > 0) {
		print_status(cfg, stats, n, &prev, mono_s() - last);
		/* prev now holds the totals since start */
		fprintf(stderr,
			"usp-agent-sim: since start: notify_resp_n %llu notify_resp_p50_ms %llu "
			"notify_resp_p99_ms %llu\n",
			(unsigned long long)sim_hist_count(prev.notify_resp_us),
			(unsigned long long)sim_hist_quantile_ms(prev.notify_resp_us, 0.50),
			(unsigned long long)sim_hist_quantile_ms(prev.notify_resp_us, 0.99));
	}
	log_info("sim", "stopped");
	munmap(stats, n * sizeof(*stats));
	free(pids);
	return rc;
}
