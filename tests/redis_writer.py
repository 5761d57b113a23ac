"""One writer per redis prefix (docs/safety.md): a second writer is refused
with SIMREC_ELOCK naming the holder; readers are not; the holder's key goes
at close; a holder killed on this host is taken over; a holder elsewhere
is refused until its key P:writer is deleted by hand.

usage: redis_writer.py HOST:PORT[,HOST:PORT...]   (several: a cluster)"""
import os
import subprocess
import sys

import numpy as np
import redis
import redis.cluster
import simrec

seeds = sys.argv[1]
cluster = "," in seeds
host, port = seeds.split(",")[0].rsplit(":", 1)
db = (redis.cluster.RedisCluster if cluster else redis.Redis)(
    host=host, port=int(port))
pfx = "tw%s" % ("c" if cluster else "s")
uri = "redis://%s?prefix=%s%s" % (seeds, pfx, "&cluster=1" if cluster else "")
wkey = pfx + ":writer"
db.delete(wkey)


def refused(mode, who):
    """Opening uri with mode fails with ELOCK naming who."""
    try:
        simrec.Recorder(uri, mode=mode).close()
    except simrec.Error as e:
        if e.name != "SIMREC_ELOCK" or who not in str(e):
            sys.exit("mode %s: %s, not ELOCK naming '%s'" % (mode, e, who))
        return
    sys.exit("a second writer (mode %s) was not refused" % mode)


# the reviewer's case: two recorders on one prefix, the second refused
a = simrec.Recorder(uri, mode="w")
for i in range(3):
    a.record("x/v", np.full(10, i, dtype=np.int64))
a.flush()
mine = "pid %d " % os.getpid()
refused("a", mine)
if mine not in (db.get(wkey) or b"").decode():
    sys.exit("P:writer does not name this process")
refused("w", mine)  # nor may it replace the store under the writer
with simrec.Recorder(uri, mode="r") as rd:  # readers are never blocked
    if len(rd.get_all("x/v")) != 3:
        sys.exit("reader: not 3 records")
a.close()
if db.exists(wkey):
    sys.exit("P:writer left after close")
with simrec.Recorder(uri, mode="a") as b:  # the next writer, in turn
    b.record("x/v", np.full(10, 3, dtype=np.int64))
with simrec.Recorder(uri, mode="r") as rd:
    got = np.asarray(rd.get_all("x/v")[:])
    if not np.array_equal(got, np.repeat(np.arange(4), 10).reshape(4, 10)):
        sys.exit("records lost: %s" % got[:, 0])

# a holder killed on this host: taken over (said on stderr)
child = subprocess.Popen(
    [sys.executable, "-c",
     "import simrec, sys; r = simrec.Recorder(sys.argv[1], mode='a'); "
     "print('opened', flush=True); sys.stdin.read()", uri],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
if child.stdout.readline().strip() != "opened":
    sys.exit("the child did not open")
refused("a", "pid %d " % child.pid)
child.kill()
child.wait()
over = subprocess.run(
    [sys.executable, "-c",
     "import simrec, sys; simrec.Recorder(sys.argv[1], mode='a').close()",
     uri], capture_output=True, text=True)
if over.returncode or "taking the prefix over" not in over.stderr:
    sys.exit("a dead holder's key was not taken over: %s" % over.stderr)

# a holder on another host: refused until P:writer is deleted by hand
db.set(wkey, "host elsewhere-n01 pid 4711 job 99 id 00")
refused("a", "elsewhere-n01 pid 4711 job 99")
db.delete(wkey)
simrec.Recorder(uri, mode="a").close()
print("ok")
