"""Helpers shared by dropbench's benchmark scripts (scripts/bench, scripts/bench_kernel):
the machine, the commit, finding a Python with torch, running a command that prints JSON
while measuring how busy the rest of the machine was."""
import json
import os
import resource
import shutil
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DROPBENCH = os.path.join(ROOT, "dropbench")
NO_TORCH_NOTE = ("PyTorch not found: scripts/peer_venv installs PyTorch 2.x from PyPI into a venv "
                 "(make bench does) to compare; showing dropbench alone")

# Flag a run when other processes used more than this share of all CPUs meanwhile.
OTHERS_WARN = 0.10


def sh(cmd):
    try:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def nproc():
    out = sh(["nproc"])
    if out.isdigit():
        return int(out)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy over a short sample taken before the run, or None."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v[:8]), idle
    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (i1 - i0) / (t1 - t0) if t1 > t0 else None


def git_commit():
    rev = sh(["git", "rev-parse", "--short", "HEAD"])
    if not rev:
        return "unknown"
    if sh(["git", "status", "--porcelain"]):
        rev += "-dirty"
    return rev


def find_torch_python():
    """First interpreter that can import torch, or None."""
    cands = []
    if os.environ.get("BENCH_PYTHON"):
        cands.append(os.environ["BENCH_PYTHON"])
    venv = os.environ.get("DROPBENCH_PEER_VENV") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dropbench", "torch-venv")
    cands += [os.path.join(venv, "bin", "python"), "python3", "/usr/bin/python3"]
    seen = set()
    for c in cands:
        path = shutil.which(c)
        if not path:
            continue
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        try:
            r = subprocess.run([path, "-c", "import torch"], capture_output=True,
                               timeout=120)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0:
            return path
    return None


def busy_ticks():
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:8]]
        return sum(v) - v[3] - v[4]  # user+nice+system+irq+softirq
    except (OSError, ValueError, IndexError):
        return None


def run_json(cmd, env):
    """Run a benchmark command. Returns (parsed JSON of its last JSON line or None, rc,
    stderr, others) where others is the share of the machine's CPUs that *other*
    processes used while it ran (None if unknown): a sign that the number is noisy."""
    b0, c0, t0 = busy_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    b1, c1, t1 = busy_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    others = None
    if b0 is not None and b1 is not None and t1 > t0 and nproc() > 0:
        child = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
        busy = (b1 - b0) / os.sysconf("SC_CLK_TCK")
        others = round(max(0.0, min(1.0, (busy - child) / ((t1 - t0) * nproc()))), 3)
    res = None
    for line in reversed(r.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                res = json.loads(line)
                break
            except ValueError:
                pass
    return res, r.returncode, r.stderr.strip(), others


def fmt_others(x):
    return "  [others used %.0f%% CPU]" % (100 * x) if x is not None and x > OTHERS_WARN else ""


def interleave(rounds, ours, peer, peer_name):
    """ours() and peer() (None when it failed or is absent) in turn for `rounds` rounds, the one
    first alternating (a drift within a round favours neither), a line per round; returns (ours'
    numbers, the peer's, the peer's last result dict)."""
    mine, theirs, last = [], [], None
    for k in range(rounds):
        r = peer() if peer and k % 2 else None
        mine.append(ours())
        if not k % 2:
            r = peer() if peer else None
        if r:
            theirs.append(r["images_per_s"])
            last = r
        print("round %d: dropbench %.1f images/s%s" % (k + 1, mine[-1], ", %s %.1f" % (peer_name, theirs[-1])
                                                         if len(theirs) == len(mine) else ""), flush=True)
    return mine, theirs, last


def ratio_summary(mine, theirs, peer_label):
    """'dropbench X images/s[, PEER Y: ratio Rx (rounds a-bx)]' from interleaved rounds (medians)"""
    import statistics
    m = statistics.median(mine)
    line = "dropbench %.1f images/s" % m
    if theirs and len(theirs) == len(mine):
        t = statistics.median(theirs)
        ratios = [x / y for x, y in zip(mine, theirs)]
        line += ", %s %.1f: ratio %.2fx (rounds %.2f-%.2fx)" % (peer_label, t, m / t, min(ratios), max(ratios))
    return line


def train_rate(args, tmp):
    """`dropbench train ARGS... --epochs 1` in tmp: its training images/s (evaluation excluded)"""
    import csv
    csv_path = os.path.join(tmp, "m.csv")
    db = os.path.join(tmp, "r.db")
    r = subprocess.run([DROPBENCH, "train"] + args + ["--epochs", "1", "--metrics", csv_path, "--db", db], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("dropbench train failed: " + r.stderr.strip()[-400:])
    os.remove(db)
    with open(csv_path) as f:
        return float(list(csv.DictReader(f))[-1]["images_per_s"])


def peer_env():
    """The peer's environment: OpenMP's wait as dropbench's own (it restarts itself with
    GOMP_SPINCOUNT=3000 unless the caller set a wait), so both sides wait alike"""
    env = dict(os.environ)
    if "GOMP_SPINCOUNT" not in env and "OMP_WAIT_POLICY" not in env:
        env["GOMP_SPINCOUNT"] = "3000"
    return env


def peer_json(cmd):
    """Run a peer script (waiting as dropbench waits: peer_env); its last JSON line, or None (with
    its error on stderr). A PyTorch 1.x peer is said: the peer is PyTorch 2.x (scripts/peer_venv)"""
    import sys
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=peer_env())
    for line in reversed(r.stdout.splitlines()):
        if line.startswith("{"):
            res = json.loads(line)
            version = str(res.get("torch", res.get("torch_version", "")))
            if version.startswith("1."):
                print("warning: the peer is PyTorch %s, not 2.x (scripts/peer_venv makes one)" % version, file=sys.stderr)
            return res
    print("the peer failed: " + r.stderr.strip()[-400:], file=sys.stderr)
    return None
