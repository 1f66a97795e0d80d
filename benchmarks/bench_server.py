"""gunicorn under test and the CPU it and PostgreSQL use."""
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.error
import uuid
from pathlib import Path

# bench_db puts tests/ on the path for zl_testing.
import bench_db  # noqa: F401
from zl_testing import BIN, child_env, free_port, rpc

# Server -----------------------------------------------------------------

class Server:
    "gunicorn serving database; its workers' RSS and CPU from /proc"

    def __init__(self, config, database, workdir, args):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.argv = [
            str(BIN / 'gunicorn'), '--no-control-socket',
            '--bind', f'127.0.0.1:{self.port}',
            '--workers', str(args.workers),
            '--worker-class', 'gthread' if args.threads > 1 else 'sync',
            '--threads', str(args.threads),
            # Room for every client's connection at once; the kernel caps
            # it at net.core.somaxconn anyway.
            '--backlog', '2048',
            # A booking waits at most for the hot row's queue; a worker
            # silent for 60 s is stuck, not busy.
            '--timeout', '60', '--graceful-timeout', '10',
            # gthread only: keep the clients' connections across requests
            # (sync workers close after each response whatever we say).
            '--keep-alive', '30',
            args.app]
        env = {**child_env(), 'TRYTOND_CONFIG': str(config),
            # Workers load the pool at start-up: a lazily initialised pool
            # answers logins with KeyError 'res.user' (trytond 8.0.12).
            'TRYTOND_DATABASE_NAMES': database}
        self.log = open(workdir / 'gunicorn.log', 'w+')
        self.proc = subprocess.Popen(self.argv, env=env,
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                rpc(self.url, 'common.server.version')
                break
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None \
                        or time.monotonic() > deadline:
                    self.stop()
                    self.log.seek(0)
                    sys.exit('gunicorn did not start:\n'
                        + self.log.read()[-4000:])
                time.sleep(0.3)
        # Every worker must have loaded the pool before we measure.
        while len(self.workers()) < args.workers:
            time.sleep(0.2)

    def workers(self):
        return [pid for pid in pids() if ppid(pid) == self.proc.pid]

    def rss(self):
        "Resident memory of the workers, in MiB"
        total = 0
        for pid in self.workers():
            for line in Path(f'/proc/{pid}/status').read_text().splitlines():
                if line.startswith('VmRSS:'):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def pids():
    return [int(p) for p in os.listdir('/proc') if p.isdigit()]


def ppid(pid):
    try:
        stat = Path(f'/proc/{pid}/stat').read_text()
    except OSError:
        return None
    return int(stat.rsplit(')', 1)[1].split()[1])


def cpu_ticks(pid_list):
    "{pid: user + system CPU clock ticks} of the processes still alive"
    ticks = {}
    for pid in pid_list:
        try:
            fields = Path(f'/proc/{pid}/stat').read_text() \
                .rsplit(')', 1)[1].split()
        except OSError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks


def cpu_delta(before, after):
    "CPU seconds used between two cpu_ticks (exited processes left out)"
    ticks = sum(t - before.get(pid, 0) for pid, t in after.items())
    return ticks / os.sysconf('SC_CLK_TCK')


def postgres_pids(database):
    """PostgreSQL processes working for database: its backends and the
    shared ones (WAL writer, checkpointer...), not other databases'"""
    found = []
    for pid in pids():
        try:
            if Path(f'/proc/{pid}/comm').read_text().strip() != 'postgres':
                continue
            title = Path(f'/proc/{pid}/cmdline').read_text()
        except OSError:
            continue
        # Backends are titled 'postgres: 15/main: USER DATABASE [local] ...'
        if '[local]' not in title or f' {database} ' in title:
            found.append(pid)
    return found


def begin_run(prefix, name='zl_bench'):
    """(database name, work folder, start time) of a benchmark run; warns
    when other work keeps the machine busy (it would skew the figures)"""
    database = f'{name}_{uuid.uuid4().hex[:8]}'
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    started = time.monotonic()
    print(f'database {database}, logs in {workdir}', flush=True)
    busy = machine_busy()
    time.sleep(1)
    if (busy := machine_busy() - busy) > 0.3:
        print(f'warning: {busy:.1f} cores busy before the run: other work '
            'will skew the figures (see column else)', flush=True)
    return database, workdir, started


def machine_busy():
    "CPU seconds the whole machine spent not idle (/proc/stat)"
    with open('/proc/stat') as stat:
        ticks = [int(t) for t in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf('SC_CLK_TCK')


class CPU:
    """Cores used during a measure by the workers, PostgreSQL (for this
    database), this client, and anything else on the machine: which side
    of the 2 cores is the bottleneck, and whether others disturbed us."""

    def __init__(self, server, database):
        self.server, self.database = server, database

    def __enter__(self):
        self.start = self.sample()
        return self

    def __exit__(self, *exc):
        end = self.sample()
        wall = end[0] - self.start[0]
        self.cores = [cpu_delta(s, e) / wall
            for s, e in zip(self.start[1:3], end[1:3])]
        self.cores += [(e - s) / wall
            for s, e in zip(self.start[3:], end[3:])]
        # Last: the rest of the machine (total minus ours).
        self.cores[3] = max(0, self.cores[3] - sum(self.cores[:3]))

    def sample(self):
        workers = self.server.workers() if self.server else []
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return (time.perf_counter(), cpu_ticks(workers),
            cpu_ticks(postgres_pids(self.database)),
            usage.ru_utime + usage.ru_stime, machine_busy())


def profiled_app(environ, start_response):
    """trytond's WSGI app with one worker under cProfile: serve it with
    `--app bench_server:profiled_app`, benchmarks/ on PYTHONPATH and
    ZL_BENCH_PROFILE=DIR. The first worker to serve a request claims
    DIR/claimed and writes DIR/worker.prof every 200 requests; the others
    serve unprofiled (load with pstats)."""
    from trytond.application import app
    if _profile['state'] is None:
        directory = Path(os.environ['ZL_BENCH_PROFILE'])
        try:
            os.close(os.open(directory / 'claimed',
                    os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            _profile['state'] = False
        else:
            import cProfile
            _profile.update(state=cProfile.Profile(), requests=0,
                path=directory / 'worker.prof')
    profile = _profile['state']
    if not profile:
        return app(environ, start_response)
    profile.enable()
    try:
        # The body is built before the call returns (Werkzeug responses).
        return list(app(environ, start_response))
    finally:
        profile.disable()
        _profile['requests'] += 1
        if _profile['requests'] % 200 == 0:
            profile.dump_stats(_profile['path'])


_profile = {'state': None}
