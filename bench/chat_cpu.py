#!/usr/bin/env python3
"""CPU per streamed text delta of `brock chat`, end to end (bench/RESULTS.md has the numbers).

    make build/brock && python3 bench/chat_cpu.py [--runs 40] [--deltas 20000] [--tls] [--no-callgrind]
    python3 bench/chat_cpu.py --brock A --brock B ...   (compare binaries you built yourself)

Starts bench/stream_stub.py (plain HTTP on loopback, one ConverseStream reply of N deltas per
request) and runs `brock chat -q -m amazon.nova-pro-v1:0 N` against it in a clean environment
(env -i, a temporary HOME, AWS_EC2_METADATA_DISABLED=true, static keys, the runtime endpoint
pointed at the stub), for N = 0 and N = --deltas, each binary in turn, interleaved, with stdout to
/dev/null and to a pipe this script drains. It reports user+sys CPU (rusage of the child) as
medians and CPU per 1,000 deltas = (median(N) - median(0)) / (N / 1000), which takes out
start-up, config and the request. --tls serves HTTPS (a throwaway CA from
tests/emulator/mkcerts.sh), as Bedrock does: then TLS decryption is part of every delta. With valgrind installed it also reports the instructions
brock executes in user space per 1,000 deltas (callgrind; repeatable on a busy machine, blind
to the kernel).

Without --brock it links two binaries from build/ (the objects `make build/brock` left) and
src/bedrock/converse.c compiled twice with the Makefile's musl flags: "fast" as it is, and
"full" with -DCONV_BENCH_NO_FAST when converse.c still has that switch (every payload through
the full JSON reader). Nothing is sent beyond loopback.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODEL = "amazon.nova-pro-v1:0"
# the Makefile's musl variant (CSTD, INC, MUSL_CFLAGS, MUSL_LDFLAGS)
CFLAGS = ["-std=c11", "-D_DEFAULT_SOURCE", "-Os", "-g", "-ffunction-sections", "-fdata-sections",
          "-Isrc", "-Ibuild/vendor/include", "-Ibuild/vendor/src/bearssl/inc", "-Ibuild/gen"]
LDFLAGS = ["-static", "-Wl,--gc-sections"]


def build_variants(out):
    src = os.path.join(ROOT, "src", "bedrock", "converse.c")
    variants = [("fast", [])]
    with open(src) as f:
        if "CONV_BENCH_NO_FAST" in f.read():
            variants.append(("full", ["-DCONV_BENCH_NO_FAST"]))
    bins = []
    for name, defs in variants:
        obj = os.path.join(out, "converse_%s.o" % name)
        exe = os.path.join(out, "brock_%s" % name)
        subprocess.run(["musl-gcc"] + CFLAGS + defs + ["-c", src, "-o", obj], cwd=ROOT, check=True)
        subprocess.run(["musl-gcc", "-Os", "-g"] + LDFLAGS + ["-o", exe, "build/obj/cmd/main.o", obj,
                        "build/libbrock.a", "build/bearssl/libbearssl.a"], cwd=ROOT, check=True)
        bins.append((name, exe))
    return bins


def start_stub(certs):
    argv = [sys.executable, os.path.join(HERE, "stream_stub.py")] + (["--certs", certs] if certs else [])
    p = subprocess.Popen(argv, stdout=subprocess.PIPE)
    port = int(p.stdout.readline())
    return p, port


def env_for(port, home, certs):
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "%s://127.0.0.1:%d" % ("https" if certs else "http", port),
           "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
           "AWS_REGION": "us-east-1"}
    if certs:
        env["AWS_CA_BUNDLE"] = os.path.join(certs, "ca.crt")
    return env


def drain(f):
    while f.read(65536):
        pass


def cpu_once(exe, n, env, pipe):
    """user+sys seconds of one `brock chat` (rusage of that child alone)."""
    argv = [exe, "chat", "-q", "-m", MODEL, str(n)]
    if pipe:
        p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        t = threading.Thread(target=drain, args=(p.stdout,))
        t.start()
    else:
        p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if pipe:
        t.join()
        p.stdout.close()
    if p.returncode != 0:
        raise SystemExit("%s exited %d" % (" ".join(argv), p.returncode))
    return ru.ru_utime + ru.ru_stime


def callgrind_ir(exe, n, env, tmp):
    out = os.path.join(tmp, "callgrind.out")
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, exe, "chat", "-q",
                        "-m", MODEL, str(n)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       check=True, text=True)
    for line in r.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1])
    raise SystemExit("no callgrind total for %s" % exe)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brock", action="append", help="a binary to measure (repeatable)")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--deltas", type=int, default=20000)
    ap.add_argument("--tls", action="store_true", help="HTTPS instead of plain HTTP")
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="brock-chat-cpu-")
    stub = None
    try:
        bins = [(os.path.basename(b), os.path.abspath(b)) for b in args.brock] if args.brock else build_variants(tmp)
        certs = None
        if args.tls:
            certs = os.path.join(tmp, "certs")
            subprocess.run(["sh", os.path.join(ROOT, "tests", "emulator", "mkcerts.sh"), certs], check=True,
                           stdout=subprocess.DEVNULL)
        stub, port = start_stub(certs)
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        env = env_for(port, home, certs)
        k = args.deltas / 1000.0
        for _, exe in bins:  # warm up: the stub builds each reply once
            cpu_once(exe, args.deltas, env, False)
            cpu_once(exe, 0, env, False)
        print("brock chat over %s, %d text deltas per reply, %d runs each, CPU = user+sys of brock"
              % ("HTTPS" if certs else "plain HTTP", args.deltas, args.runs))
        for pipe in (False, True):
            samples = {(name, n): [] for name, _ in bins for n in (0, args.deltas)}
            for _ in range(args.runs):
                for name, exe in bins:
                    for n in (0, args.deltas):
                        samples[(name, n)].append(cpu_once(exe, n, env, pipe))
            for name, _ in bins:
                big = statistics.median(samples[(name, args.deltas)])
                base = statistics.median(samples[(name, 0)])
                print("  stdout %-9s %-12s %7.1f ms/reply  %6.1f ms with no deltas  -> %6.2f ms CPU per 1000 deltas"
                      % ("a pipe" if pipe else "/dev/null", name, big * 1e3, base * 1e3, (big - base) * 1e3 / k))
        if not args.no_callgrind and shutil.which("valgrind"):
            for name, exe in bins:
                big = callgrind_ir(exe, args.deltas, env, tmp)
                base = callgrind_ir(exe, 0, env, tmp)
                print("  callgrind %-12s %12d instructions, %9d with no deltas -> %8.0f per 1000 deltas"
                      % (name, big, base, (big - base) / k))
    finally:
        if stub:
            stub.kill()
            stub.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
