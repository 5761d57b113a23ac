#!/usr/bin/python3
"""A fake Redis Cluster node answers CLUSTER SLOTS with maps that are not
maps (huge counts, ranges outside 0..16383 or given twice, bad hosts and
ports) and redirections that never end or are malformed: every read
through ?cluster=1 must fail with SIMREC_ESERVER naming the node, never
crash, hang or take memory the reply did not justify. And one -MOVED or
-ASK is followed: the map asked again after MOVED, ASKING sent before the
command that ASK redirected, and the read then succeeds.

    redis_cluster_hostile.py HOSTILE_PROBE

HOSTILE_PROBE (tests/hostile_probe.c) reads a store and prints
"STATUS: message"; it must exit 0 (a crash or a sanitizer report is a
failure)."""
import socket
import subprocess
import sys
import threading

probe = sys.argv[1]


def bulk(s):
    b = s if isinstance(s, bytes) else s.encode()
    return b"$%d\r\n%s\r\n" % (len(b), b)


def arr(*items):
    return b"*%d\r\n" % len(items) + b"".join(items)


def num(n):
    return b":%d\r\n" % n


def master(host, port):
    return arr(bulk(host), num(port), bulk("0" * 40))


def read_command(f):
    """One RESP command (an array of bulk strings), as a list of bytes."""
    line = f.readline()
    if not line.startswith(b"*"):
        return None
    args = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        args.append(f.read(n + 2)[:-2])
    return args


class Fake:
    """A server on a free loopback port: PING and AUTH answered, CLUSTER
    SLOTS by self.slots (bytes, or a function of the port), every other
    command by self.other."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.slots = b"*0\r\n"
        self.other = b"-ERR unknown\r\n"
        self.once = None  # the first data command's reply, then an empty store
        self.log = []  # the commands' names, in order
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.sock.accept()
            threading.Thread(target=self.client, args=(c,), daemon=True).start()

    def client(self, c):
        f = c.makefile("rwb")
        try:
            while True:
                cmd = read_command(f)
                if cmd is None:
                    break
                name = cmd[0].upper()
                self.log.append(name)
                if name == b"PING":
                    f.write(b"+PONG\r\n")
                elif name in (b"AUTH", b"ASKING"):
                    f.write(b"+OK\r\n")
                elif name == b"CLUSTER":
                    s = self.slots
                    f.write(s(self.port) if callable(s) else s)
                elif self.once is not None:
                    f.write(self.once(self.port))
                    self.once = None
                    self.other = lambda p: b":1\r\n" if self.log[-1] == b"EXISTS" else b"*0\r\n"
                else:
                    o = self.other
                    f.write(o(self.port) if callable(o) else o)
                f.flush()
        except (OSError, ValueError):
            pass
        finally:
            c.close()


fake = Fake()
P = fake.port
whole = lambda p: arr(arr(num(0), num(16383), master("127.0.0.1", p)))  # noqa: E731
CASES = [
    # (name, CLUSTER SLOTS reply, other replies, status, needle)
    ("an array of 16385 ranges", arr(*[arr(num(0), num(0), master("127.0.0.1", P))] * 16385),
     None, "ESERVER", "not a slot map"),
    ("a count of 2^31", b"*2147483647\r\n", None, "ESERVER", "not a slot map"),
    ("a count past 2^24", b"*99999999\r\n", None, "ESERVER", "not a slot map"),
    ("not an array", b"+OK\r\n", None, "ESERVER", "not a slot map"),
    ("a range past 16383", arr(arr(num(0), num(99999), master("127.0.0.1", P))), None,
     "ESERVER", "outside 0..16383"),
    ("a negative range", arr(arr(num(-5), num(10), master("127.0.0.1", P))), None,
     "ESERVER", "outside 0..16383"),
    ("a reversed range", arr(arr(num(100), num(5), master("127.0.0.1", P))), None,
     "ESERVER", "outside 0..16383"),
    ("the whole range 20000 times", arr(*[arr(num(0), num(16383), master("127.0.0.1", P))] * 20000),
     None, "ESERVER", "not a slot map"),
    ("the whole range twice", arr(*[arr(num(0), num(16383), master("127.0.0.1", P))] * 2),
     None, "ESERVER", "more than 16384 slots"),
    ("a slot given to two masters", arr(arr(num(0), num(100), master("127.0.0.1", P)),
                                        arr(num(50), num(60), master("localhost", P))),
     None, "ESERVER", "two masters"),
    ("a host with a control byte", arr(arr(num(0), num(16383), master("127.0.0.1\x01", P))),
     None, "ESERVER", "malformed master"),
    ("a host of 4000 bytes", arr(arr(num(0), num(16383), master("h" * 4000, P))),
     None, "ESERVER", "malformed master"),
    ("port 0", arr(arr(num(0), num(16383), master("127.0.0.1", 0))), None,
     "ESERVER", "malformed master"),
    ("port 70000", arr(arr(num(0), num(16383), master("127.0.0.1", 70000))), None,
     "ESERVER", "malformed master"),
    ("a port as a string", arr(arr(num(0), num(16383), arr(bulk("127.0.0.1"), bulk(str(P))))),
     None, "ESERVER", "malformed master"),
    ("a master that is no array", arr(arr(num(0), num(16383), num(7))), None,
     "ESERVER", "malformed master"),
    ("a range of strings", arr(arr(bulk("0"), bulk("16383"), master("127.0.0.1", P))), None,
     "ESERVER", "malformed range"),
    ("a range of two fields", arr(arr(num(0), num(16383))), None, "ESERVER", "malformed range"),
    ("no range at all", b"*0\r\n", None, "ESERVER", "no master serves slot"),
    ("MOVED to itself for ever", whole, lambda p: b"-MOVED 42 127.0.0.1:%d\r\n" % p,
     "ESERVER", "redirections"),
    ("ASK to itself for ever", whole, lambda p: b"-ASK 42 127.0.0.1:%d\r\n" % p,
     "ESERVER", "redirections"),
    ("MOVED with a bad slot", whole, b"-MOVED 99999 127.0.0.1:1\r\n", "ESERVER",
     "malformed redirection"),
    ("MOVED with no port", whole, b"-MOVED 5 127.0.0.1\r\n", "ESERVER", "malformed redirection"),
    ("ASK to a host with a control byte", whole, b"-ASK 5 h\x7f:6379\r\n", "ESERVER",
     "malformed redirection"),
]

bad = 0
for name, slots, other, status, needle in CASES:
    fake.slots = slots
    fake.other = other or b"-ERR unknown command\r\n"
    uri = f"redis://127.0.0.1:{P}?cluster=1&prefix=x&timeout=5"
    try:
        p = subprocess.run([probe, uri, ""], capture_output=True, text=True, timeout=60,
                           errors="replace")
        out = (p.stdout + p.stderr).strip()
        ok = (p.returncode == 0 and out.startswith(f"SIMREC_{status}:") and needle in out
              and f"127.0.0.1:{P}" in out)
    except subprocess.TimeoutExpired:
        out, ok = "timed out", False
    print(f"{'ok ' if ok else 'BAD'} {name}: {out[:300]}")
    bad += not ok
# one redirection, followed: the read then finds an empty store
for kind in ("MOVED", "ASK"):
    fake.slots = whole
    fake.other = b"-ERR unknown command\r\n"
    fake.log = []
    fake.once = lambda p, k=kind: b"-%s 42 127.0.0.1:%d\r\n" % (k.encode(), p)
    p = subprocess.run([probe, f"redis://127.0.0.1:{P}?cluster=1&prefix=x&timeout=5", ""],
                       capture_output=True, text=True, timeout=60, errors="replace")
    log = fake.log
    first = log.index(b"EXISTS")
    followed = (log.count(b"CLUSTER") >= 2 if kind == "MOVED"
                else log[first + 1:first + 3] == [b"ASKING", b"EXISTS"])
    ok = p.returncode == 0 and p.stdout.startswith("OK") and followed
    print(f"{'ok ' if ok else 'BAD'} one {kind} followed: {p.stdout.strip()[:200]} {log[:12]}")
    bad += not ok
print("redis cluster hostile:", "ok" if not bad else f"{bad} failed")
sys.exit(1 if bad else 0)
