"""Order across masters (docs/redis-format.md, "Order across masters"): a
joined array's count must never be visible without its rows. The rows and
the count of one step go to two different masters; the master holding the
rows is killed (SIGKILL) right after record_joined returned, before any
flush, and restarted from its append-only file (appendfsync always). Then
the count dataset must count no step whose rows are missing.

usage: redis_cluster_order.py CLUSTER_SH DIR"""
import subprocess
import sys

import numpy as np
import redis
import redis.crc
import simrec

sh, d = sys.argv[1], sys.argv[2]
seeds = open(d + "/seeds").read().strip()
uri = "redis://%s?cluster=1&prefix=ord" % seeds
ports = [int(open("%s/n%d/port" % (d, i)).read()) for i in (1, 2, 3)]

slots = redis.Redis(port=ports[0]).execute_command("CLUSTER", "SLOTS")


def node_of(tag):
    """The node number (1..3) owning the slot of hash tag tag."""
    slot = redis.crc.key_slot(("{%s}" % tag).encode())
    for r in slots:
        if r[0] <= slot <= r[1]:
            return ports.index(int(r[2][1])) + 1
    sys.exit("no master serves slot %d" % slot)


# a key whose rows and count live on two masters
key = next(k for k in ("sim/p%d" % i for i in range(100))
           if node_of("ord:%s:0" % k) != node_of("ord:%s_count:0" % k))
victim = node_of("ord:%s:0" % key)
step0 = np.arange(5, dtype=np.float64)
step1 = np.arange(7, dtype=np.float64) + 100

r = simrec.Recorder(uri, mode="w")
r.record_joined(key, step0)
r.flush()  # step 0 acknowledged: the datasets exist
r.record_joined(key, step1)  # pipelined: rows to the victim, then the count
subprocess.run([sh, "kill", d, str(victim)], check=True)
failed = 0
for call in (r.flush, r.close):
    try:
        call()
    except simrec.Error:
        failed += 1
if not failed:
    sys.exit("the flush after the kill did not fail")
subprocess.run([sh, "restart", d, str(victim)], check=True)

rc = redis.cluster.RedisCluster(host="127.0.0.1", port=ports[0])
nrows = int(rc.get("ord:r:{ord:%s:0}" % key) or 0)
nsteps = int(rc.get("ord:r:{ord:%s_count:0}" % key) or 0)
want = [len(step0), len(step0) + len(step1)]
print("rows %d, steps %d (victim node %d)" % (nrows, nsteps, victim))
if nsteps < 1:
    sys.exit("step 0 was acknowledged but is gone")
if nrows < want[nsteps - 1]:
    sys.exit("the count shows %d steps but only %d of their %d rows "
             "are stored" % (nsteps, nrows, want[nsteps - 1]))
with simrec.Recorder(uri, mode="r") as rd:
    got = rd.get_all(key)
    if len(got) != nsteps:
        sys.exit("get_all has %d steps, the counter %d" % (len(got), nsteps))
    for s, ref in enumerate((step0, step1)[:nsteps]):
        if not np.array_equal(np.asarray(got[s]), ref):
            sys.exit("step %d differs" % s)
print("ok")
