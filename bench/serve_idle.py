"""bench/serve_idle.py BROCK N: brock serve's resident memory with N idle kept-alive client
connections (each answered one GET /healthz). A number, not a test; loopback only."""
import os, re, resource, socket, subprocess, sys, tempfile, time
resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
brock = sys.argv[1]; n = int(sys.argv[2])
home = tempfile.mkdtemp()
os.makedirs(home + "/.config/brock")
open(home + "/.config/brock/config.json5", "w").write('{serve: {maxConnectionsPerIp: 20000}}')
p = subprocess.Popen([brock, "serve", "--listen", "127.0.0.1:0"], env={"HOME": home, "AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin"}, stderr=subprocess.PIPE)
line = p.stderr.readline().decode()
port = int(re.search(r":(\d+) ", line).group(1))
def rss():
    for l in open("/proc/%d/status" % p.pid):
        if l.startswith("VmRSS:"): return int(l.split()[1])
r0 = rss(); socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"); socks.append(s)
ok = 0
for s in socks:
    if s.recv(4096).startswith(b"HTTP/1.1 200"): ok += 1
time.sleep(0.5)
r1 = rss()
print("idle kept-alive connections=%d answered=%d rss_before_kib=%d rss_after_kib=%d bytes_per_idle_conn=%.0f" % (n, ok, r0, r1, (r1 - r0) * 1024.0 / n))
p.terminate(); p.wait()
