#!/usr/bin/env python3
"""Integration tests: the real brock binary against the local AWS emulator.

    python3 tests/integration/run.py --brock build/brock [-k PATTERN] [-v] [--keep]

Generates a throwaway PKI (tests/emulator/mkcerts.sh), starts tests/emulator/emulator.py, runs
every test_*(h) function of tests/integration/test_*.py in order, prints one line per test
(`ok NAME`, `FAIL NAME` + details, `SKIP NAME (reason)`), then the secret scan
(`secrets_never_printed`), then `N passed, M failed`. Exit status 1 on any failure.
Python 3 standard library only.
"""

import argparse
import contextlib
import fnmatch
import importlib.util
import inspect
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EMU_DIR = os.path.join(ROOT, "tests", "emulator")
sys.path.insert(0, HERE)
import harness  # noqa: E402

DEFAULT_TEST_TIMEOUT = 300
MIN_SECRET_LEN = 8


class Run:
    def __init__(self, brock_path, tmp):
        self.brock_path = brock_path
        self.tmp = tmp
        self.certs = os.path.join(tmp, "certs")
        self.ca = os.path.join(self.certs, "ca.crt")
        self.emu = None
        self.emu_proc = None
        self.secrets = set()
        self.outputs = []   # (test name, bytes) of everything brock printed
        self.spawned = []


def start_emulator(run, verbose):
    subprocess.run(["sh", os.path.join(EMU_DIR, "mkcerts.sh"), run.certs], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)
    state = os.path.join(run.tmp, "emulator.json")
    log = open(os.path.join(run.tmp, "emulator.log"), "wb")
    cmd = [sys.executable, os.path.join(EMU_DIR, "emulator.py"), "--certs", run.certs, "--state-file", state,
           "--parent-pid", str(os.getpid()), "--max-lifetime", "1800"]
    if verbose:
        cmd.append("--verbose")
    run.emu_proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if run.emu_proc.poll() is not None:
            break
        if os.path.exists(state):
            with open(state) as f:
                info = json.load(f)
            run.emu = harness.Emu(info, run.ca)
            return
        time.sleep(0.05)
    log.close()
    with open(os.path.join(run.tmp, "emulator.log"), "rb") as f:
        sys.stdout.write(f.read().decode("utf-8", "replace"))
    raise RuntimeError("emulator did not start")


def stop_emulator(run):
    p = run.emu_proc
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(5)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(5)


def discover(pattern):
    tests = []
    for fn in sorted(os.listdir(HERE)):
        if not (fn.startswith("test_") and fn.endswith(".py")):
            continue
        modname = fn[:-3]
        spec = importlib.util.spec_from_file_location(modname, os.path.join(HERE, fn))
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
        except Exception:  # a broken test file is a failure, not a silent skip
            tests.append((modname + ".<import>", None, traceback.format_exc()))
            continue
        funcs = [f for name, f in vars(mod).items()
                 if name.startswith("test_") and inspect.isfunction(f) and f.__module__ == modname]
        funcs.sort(key=lambda f: f.__code__.co_firstlineno)
        for f in funcs:
            full = "%s.%s" % (modname, f.__name__)
            if pattern and not (pattern in full or fnmatch.fnmatch(full, pattern)):
                continue
            tests.append((full, f, None))
    return tests


def indent(text, prefix="    "):
    return "\n".join(prefix + line for line in text.rstrip("\n").split("\n"))


def record_state_files(run, h):
    """What brock left in its cache and state directories (model cache, ledger) goes to the secret
    scan with its output. (The SSO token cache and the credentials files hold secrets by design;
    tests write those themselves, and they live elsewhere.)"""
    for top in (h.cache, os.path.join(h.home, ".local", "state"), os.path.join(h.tmp, "state")):
        for d, _, files in os.walk(top):
            for f in files:
                path = os.path.join(d, f)
                try:
                    if os.path.islink(path) or os.path.getsize(path) > (4 << 20):
                        continue
                    with open(path, "rb") as fh:
                        run.outputs.append(("%s (file %s)" % (h.name, os.path.relpath(path, h.tmp)), fh.read()))
                except OSError:
                    pass


def run_one(run, name, fn, verbose):
    """-> ('ok'|'FAIL'|'SKIP', detail)."""
    tmp = os.path.join(run.tmp, "t", name)
    os.makedirs(tmp)
    note = ""
    if run.emu_proc.poll() is not None:  # keep going: restart it, and fail the test that follows
        note = "the emulator had died (exit %s); restarted it\n" % run.emu_proc.returncode
        start_emulator(run, verbose)
    try:
        run.emu.reset()
    except Exception as e:
        return "FAIL", note + "emulator not responding: %s" % e
    h = harness.H(run, name, tmp)
    box = {}

    captured = io.StringIO()

    def body():
        try:
            with contextlib.redirect_stdout(captured):
                fn(h)
            box["r"] = ("ok", "")
        except harness.Skip as e:
            box["r"] = ("SKIP", str(e))
        except AssertionError as e:
            tb = traceback.extract_tb(e.__traceback__)
            where = ""
            for fr in tb:
                if os.path.basename(fr.filename).startswith("test_"):
                    where = "%s:%d: %s" % (os.path.basename(fr.filename), fr.lineno, fr.line)
            box["r"] = ("FAIL", "%s\n%s" % (where, str(e) or "assertion failed"))
        except Exception:
            box["r"] = ("FAIL", traceback.format_exc())

    t = threading.Thread(target=body, daemon=True)
    real_stdout = sys.stdout
    t0 = time.monotonic()
    t.start()
    t.join(getattr(fn, "timeout", DEFAULT_TEST_TIMEOUT))
    harness.reap_spawned(run)
    record_state_files(run, h)
    if t.is_alive():
        sys.stdout = real_stdout  # the hung test still holds the redirection
        box["r"] = ("FAIL", "test timed out after %ss" % getattr(fn, "timeout", DEFAULT_TEST_TIMEOUT))
    status, detail = box["r"]
    if note:
        status, detail = "FAIL", note + detail
    if status == "FAIL" and captured.getvalue():
        detail += "\ntest output:\n" + indent(captured.getvalue()[-4000:], "  ")
    if status == "FAIL" and h.runs:
        detail += "\n" + "\n".join(repr(r) for r in h.runs[-4:])
    if verbose:
        detail = ("(%.2fs) " % (time.monotonic() - t0)) + detail
        detail = detail.strip()
    return status, detail


def secret_scan(run):
    secrets = set(run.secrets)
    try:
        secrets.update(run.emu.secrets())
    except Exception as e:  # the emulator died: that is a failure of its own
        return "FAIL", "cannot read the emulator's secrets: %s" % e
    secrets = {s.encode() for s in secrets if s and len(s) >= MIN_SECRET_LEN}
    leaks = []
    for test, data in run.outputs:
        for s in secrets:
            if s in data:
                leaks.append("%s printed a secret (%d chars, starts %r)" % (test, len(s), s[:4].decode()))
    if leaks:
        return "FAIL", "\n".join(sorted(set(leaks)))
    return "ok", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--brock", default=os.path.join(ROOT, "build", "brock"))
    ap.add_argument("-k", dest="pattern", help="run tests whose module.name contains PATTERN (or fnmatch glob)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()

    def on_signal(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    tmp = tempfile.mkdtemp(prefix="brock-it-")
    run = Run(os.path.abspath(args.brock), tmp)
    passed = failed = 0
    try:
        try:
            start_emulator(run, args.verbose)
        except Exception as e:
            print("FAIL emulator_start\n%s" % indent(str(e)))
            print("0 passed, 1 failed")
            return 1
        for name, fn, err in discover(args.pattern):
            if fn is None:
                status, detail = "FAIL", err
            else:
                status, detail = run_one(run, name, fn, args.verbose)
            if status == "ok":
                passed += 1
                print("ok %s%s" % (name, (" " + detail) if args.verbose and detail else ""))
            elif status == "SKIP":
                print("SKIP %s (%s)" % (name, detail))
            else:
                failed += 1
                print("FAIL %s\n%s" % (name, indent(detail)))
            sys.stdout.flush()
        status, detail = secret_scan(run)
        if status == "ok":
            passed += 1
            print("ok secrets_never_printed")
        else:
            failed += 1
            print("FAIL secrets_never_printed\n%s" % indent(detail))
    except KeyboardInterrupt:
        print("interrupted")
        failed += 1
    finally:
        harness.reap_spawned(run)
        stop_emulator(run)
        if args.keep:
            print("kept %s" % tmp)
        else:
            harness.remove_tree(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
