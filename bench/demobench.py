"""demobench: what bench/switch-latency and bench/app-launch share.

Both run vmdesk and xfreerdp against the demo guest (tools/demo-guest) in a
private XDG world, each client on its own Xvfb, and clean up after
themselves. This module holds:

  - errors, logging, medians, PR_SET_PDEATHSIG for children;
  - the RDP readiness probe (the X.224 request vmdesk's probe sends) and a
    thread that runs it until the first answer;
  - LineReader, which timestamps a pipe's lines as they arrive;
  - DemoBench, a base class: processes started and stopped by pid, X servers
    on free display numbers, `vmdesk` commands in the private world, the demo
    guest's guest.env, the VM's creation, state and stop, versions, and the
    cleanup on success, failure and signals;
  - run_main(), the shared main: signal handlers, error messages, cleanup.

Python 3 stdlib only. The scripts import it from their own folder.
"""

import base64
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE_INTERVAL_S = 0.3
PROBE_TIMEOUT_S = 1.0
# TPKT + X.224 Connection Request + RDP_NEG_REQ asking for TLS | NLA | NLA-ex
# (client/session/rdp/rdp_probe.c, RDP_PROBE_DEFAULT_PROTOCOLS).
PROBE_REQUEST = bytes([3, 0, 0, 19, 14, 0xE0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 0x0B, 0, 0, 0])


class BenchError(Exception):
    pass


class Interrupted(BaseException):
    """Raised from SIGTERM/SIGHUP handlers (SIGINT raises KeyboardInterrupt)."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


try:
    import ctypes

    _LIBC = ctypes.CDLL(None, use_errno=True)
except Exception:
    _LIBC = None


def pdeathsig():
    """preexec_fn: the child gets SIGKILL when this script dies."""
    if _LIBC is not None:
        _LIBC.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


def built(path):
    """A binary's modification time, to notice a rebuild during the run."""
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(path).st_mtime))
    except OSError:
        return "?"


def median(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def fmt(v, f="%.0f"):
    return "-" if v is None else f % v


def loadavg():
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return None


def rdp_probe_once(port):
    """True when 127.0.0.1:port answers an X.224 Connection Request with a
    Connection Confirm carrying a negotiation response (vmdesk's READY). A
    connection that is accepted and closed (QEMU's user networking before
    the guest listens) or that does not answer in time is not ready."""
    deadline = time.monotonic() + PROBE_TIMEOUT_S
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT_S) as s:
            s.sendall(PROBE_REQUEST)
            buf = b""
            while len(buf) < 4 or len(buf) < struct.unpack(">H", buf[2:4])[0]:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                s.settimeout(left)
                chunk = s.recv(256)
                if not chunk:
                    return False
                buf += chunk
                if buf[0] != 3 or len(buf) > 64:
                    return False
            # TPKT, X.224 CC (0xD0), then RDP_NEG_RSP (type 2)
            return len(buf) >= 12 and buf[5] & 0xF0 == 0xD0 and buf[11] == 2
    except (OSError, struct.error):
        return False


class Prober:
    """The benchmark's own readiness probe, in a thread, from start() until
    the first answer; `ready_t` is the monotonic time of that answer."""

    def __init__(self, port):
        self.port = port
        self.ready_t = None
        self.attempts = 0
        self.event = threading.Event()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        while not self.stop:
            self.attempts += 1
            if rdp_probe_once(self.port):
                self.ready_t = time.monotonic()
                self.event.set()
                return
            time.sleep(PROBE_INTERVAL_S)

    def cancel(self):
        self.stop = True


def guest_exec(sock_path, argv, timeout=60.0):
    """Run @argv in the guest through QEMU's guest agent (its socket
    @sock_path); returns (exit code, stdout). Raises OSError or ValueError."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        f = s.makefile("rwb")
        sync_id = random.randint(1, 1 << 30)

        def ask(cmd, args, want):
            f.write(json.dumps({"execute": cmd, "arguments": args}).encode() + b"\n")
            f.flush()
            while True:
                line = f.readline()
                if not line:
                    raise OSError("the guest agent closed the connection")
                line = line.strip().lstrip(b"\xff")
                if not line:
                    continue
                r = json.loads(line)
                if "error" in r and cmd != "guest-sync-delimited":
                    raise OSError("guest agent: %s" % r["error"].get("desc"))
                # Replies to another client's sync may still be queued.
                if isinstance(r.get("return"), want):
                    return r["return"]

        # The sync skips what is left of another client's exchange (its
        # error replies too).
        while ask("guest-sync-delimited", {"id": sync_id}, int) != sync_id:
            pass
        pid = ask("guest-exec", {"path": argv[0], "arg": list(argv[1:]),
                                 "capture-output": True}, dict)["pid"]
        while time.monotonic() < deadline:
            st = ask("guest-exec-status", {"pid": pid}, dict)
            if st.get("exited"):
                return st.get("exitcode"), base64.b64decode(st.get("out-data", "")).decode(
                    errors="replace")
            time.sleep(0.3)
    raise OSError("%s did not finish in the guest within %g s" % (argv[0], timeout))


class LineReader:
    """Reads a pipe in a thread and keeps (monotonic time, line)."""

    def __init__(self, f, logf, tag):
        self.f = f
        self.logf = logf
        self.tag = tag
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for raw in self.f:
                t = time.monotonic()
                line = raw.decode(errors="replace").rstrip("\n")
                try:
                    if self.logf:
                        self.logf.write("%.3f %s %s\n" % (t, self.tag, line))
                        self.logf.flush()
                except (OSError, ValueError):
                    pass
                with self.cond:
                    self.lines.append((t, line))
                    self.cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self.cond:
                self.eof = True
                self.cond.notify_all()

    def find(self, pattern, start=0):
        """The first (time, match) of @pattern (a compiled regex) in the
        lines from index @start on, or None."""
        with self.cond:
            for t, line in self.lines[start:]:
                m = pattern.search(line)
                if m:
                    return t, m
        return None

    def wait(self, pattern, timeout, start=0):
        """find(), waiting up to @timeout seconds for the line; None at the
        time-out or at the end of the pipe."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines[start:]:
                    m = pattern.search(line)
                    if m:
                        return t, m
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.cond.wait(min(left, 0.2))

    def count(self):
        with self.cond:
            return len(self.lines)


class DemoBench:
    """Base of a benchmark run: args (argparse) must have vmdesk, keep_logs;
    for the demo guest also guest and build. Subclasses call make_world()
    first, then what they need, and run() returns the results."""

    tmp_prefix = "vdbench-"

    def __init__(self, args):
        self.args = args
        self.vmdesk = os.path.abspath(args.vmdesk)
        self.tmp = None
        self.env = None
        self.procs = []  # (name, Popen)
        self.vm_created = False
        self.guest = None

    # -- processes -------------------------------------------------------------

    def spawn(self, name, argv, env=None, pass_fds=(), stdin=None, pipes=False):
        """Start @argv with its output in NAME.log (or pipes); it is stopped
        at cleanup unless stop() was called."""
        logf = open(os.path.join(self.tmp, "%s.log" % name), "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL if stdin is None else stdin,
                                 stdout=subprocess.PIPE if pipes else logf,
                                 stderr=subprocess.PIPE if pipes else logf,
                                 env=env or self.env, pass_fds=pass_fds, preexec_fn=pdeathsig)
        finally:
            logf.close()
        self.procs.append((name, p))
        return p

    def stop(self, p, timeout=5.0):
        if p.poll() is None:
            try:
                p.terminate()
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.procs = [(n, q) for n, q in self.procs if q is not p]

    def log_tail(self, name, n=15):
        try:
            with open(os.path.join(self.tmp, "%s.log" % name), errors="replace") as f:
                return "".join(f.readlines()[-n:]).rstrip()
        except OSError:
            return ""

    def start_x(self, name, argv, timeout=20):
        """Start an X server on a free display; returns (Popen, ':N')."""
        for attempt in range(8):
            n = random.randint(400, 3000)
            if (os.path.exists("/tmp/.X%d-lock" % n)
                    or os.path.exists("/tmp/.X11-unix/X%d" % n)):
                continue
            r, w = os.pipe()
            try:
                p = self.spawn(name, [argv[0], ":%d" % n] + argv[1:] + ["-displayfd", str(w)],
                               pass_fds=(w,))
                os.close(w)
                w = None
                deadline = time.monotonic() + timeout
                data = b""
                os.set_blocking(r, False)
                while b"\n" not in data:
                    if p.poll() is not None:
                        break
                    if time.monotonic() > deadline:
                        raise BenchError("%s did not start within %d s" % (name, timeout))
                    try:
                        chunk = os.read(r, 64)
                        if chunk:
                            data += chunk
                            continue
                    except BlockingIOError:
                        pass
                    time.sleep(0.02)
                if b"\n" in data:
                    return p, ":" + data.decode().strip()
                self.procs = [(nm, q) for nm, q in self.procs if q is not p]
                if "already active" not in self.log_tail(name, 40):
                    raise BenchError("%s exited (%s):\n%s"
                                     % (name, p.returncode, self.log_tail(name)))
            finally:
                os.close(r)
                if w is not None:
                    os.close(w)
        raise BenchError("cannot find a free X display number for %s" % name)

    def vd(self, *argv, timeout=120, check=True):
        """Run a vmdesk command in the private world; returns CompletedProcess."""
        r = subprocess.run([self.vmdesk] + list(argv), env=self.env, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and r.returncode:
            raise BenchError("vmdesk %s failed (%d): %s"
                             % (" ".join(argv), r.returncode, (r.stderr or r.stdout).strip()))
        return r

    def screenshot(self, display, name):
        try:
            subprocess.run(["import", "-silent", "-window", "root",
                            os.path.join(self.tmp, name)], capture_output=True, timeout=20,
                           env=dict(self.env, DISPLAY=display))
        except (OSError, subprocess.SubprocessError):
            pass

    def compile_c(self, name, source, libs):
        """Build @source (C) into a shared object (name ends in .so) or a
        program in the temp folder; returns its path."""
        cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
        if not cc:
            raise BenchError("no C compiler (apt-get install gcc)")
        src = os.path.join(self.tmp, name + ".c")
        with open(src, "w") as f:
            f.write(source)
        out = os.path.join(self.tmp, name)
        argv = [cc, "-O2", "-o", out, src] + list(libs)
        if name.endswith(".so"):
            argv[2:2] = ["-shared", "-fPIC"]
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode:
            raise BenchError("cannot build %s:\n%s" % (name, r.stderr.strip()))
        return out

    # -- setup -----------------------------------------------------------------

    def check_vmdesk(self):
        if not os.access(self.vmdesk, os.X_OK):
            raise BenchError("%s is not executable; build with: tools/build" % self.vmdesk)

    @staticmethod
    def need_tools(pairs):
        """pairs: (program, Debian package)."""
        for tool, pkg in pairs:
            if not shutil.which(tool):
                raise BenchError("%s not found (apt-get install %s)" % (tool, pkg))

    def make_world(self):
        """The private temp folder (0700) and the environment of the run:
        XDG_* folders, TMPDIR and HOME in it; no D-Bus session, display,
        PulseAudio server or VMDESK_DEBUG from outside."""
        self.tmp = tempfile.mkdtemp(prefix=self.tmp_prefix)
        os.chmod(self.tmp, 0o700)
        env = {k: v for k, v in os.environ.items()
               if k not in ("DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY", "DISPLAY",
                            "PULSE_SERVER", "VMDESK_DEBUG")}
        for k in ("XDG_DATA_HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                  "XDG_STATE_HOME", "TMPDIR", "HOME"):
            d = os.path.join(self.tmp, k.lower())
            os.mkdir(d, 0o700)
            env[k] = d
        self.env = env

    def load_guest(self):
        """Build the demo guest (args.build; the script caches and waits for
        a concurrent build) and read its guest.env into self.guest."""
        a = self.args
        guest = os.path.abspath(a.guest)
        if a.build:
            log("building the demo guest (cached; waits for a concurrent build)...")
            t = time.monotonic()
            r = subprocess.run(["bash", os.path.join(REPO, "tools", "demo-guest",
                                                     "build-demo-guest.sh"), guest],
                               capture_output=True, text=True)
            if r.returncode:
                raise BenchError("building the demo guest failed:\n" + r.stderr.strip()[-2000:])
            log("  demo guest ready after %.1f s: %s" % (time.monotonic() - t,
                                                       (r.stderr.strip().splitlines()
                                                        or ["?"])[-1]))
        env_file = os.path.join(guest, "guest.env")
        if not os.path.exists(env_file):
            raise BenchError("%s is missing; build the guest with: bash "
                             "tools/demo-guest/build-demo-guest.sh %s" % (env_file, a.guest))
        # guest.env sets USER: read it in a subshell.
        out = subprocess.run(["bash", "-c", '. "$1" && printf "%s\\0" "$KERNEL" "$INITRD" '
                              '"$APPEND" "$DISK" "$USER" "$PASSWORD_FILE"', "guest.env",
                              env_file], capture_output=True, check=True).stdout
        vals = out.decode().split("\0")[:6]
        if len(vals) != 6 or not all(vals):
            raise BenchError("%s lacks KERNEL, INITRD, APPEND, DISK, USER or PASSWORD_FILE"
                             % env_file)
        self.guest = dict(zip(("kernel", "initrd", "append", "disk", "user", "password_file"),
                              vals))
        self.guest["dir"] = guest

    def create_demo_vm(self, memory, cpus, os_name=None):
        """vmdesk create demo from guest.env on a free RDP port (self.port),
        then its credentials; the password is kept for xfreerdp's stdin."""
        self.port = self.free_port()
        g = self.guest
        log("creating the VM demo in %s (RDP on 127.0.0.1:%d)..." % (self.tmp, self.port))
        argv = ["create", "demo", "--kernel", g["kernel"], "--initrd", g["initrd"],
                "--append", g["append"], "--import-disk", g["disk"], "--memory", memory,
                "--cpus", str(cpus), "--rdp-port", str(self.port)]
        if os_name:
            argv += ["--os", os_name]
        self.vd(*argv, timeout=600)
        self.vm_created = True
        self.vd("credentials", "demo", "--user", g["user"], "--password-file",
                g["password_file"])
        with open(g["password_file"]) as f:
            self.password = f.readline().rstrip("\r\n")

    @staticmethod
    def free_port():
        """A free TCP port on 127.0.0.1 from 50000-59999 (away from vmdesk's
        default range from 47101, which other VMs of the host use)."""
        for _ in range(200):
            p = random.randint(50000, 59999)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", p))
                    return p
                except OSError:
                    continue
        raise BenchError("no free port in 50000-59999")

    # -- the VM ------------------------------------------------------------------

    def vm_status(self):
        r = self.vd("status", "demo", "--json", check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}

    def guest_run(self, argv, timeout=60.0):
        """guest_exec() on the demo VM's guest agent."""
        sock = os.path.join(self.env["XDG_RUNTIME_DIR"], "vmdesk", "demo", "qga.sock")
        return guest_exec(sock, argv, timeout)

    def wait_no_session(self, user, timeout=90.0):
        """Wait until no program of @user's xrdp session runs in the guest (the
        session of the last client ended: sesman.ini's KillDisconnected, about 60 s
        after the client went); returns the
        seconds waited. Without an answer from the guest agent, waits
        @timeout / 3 seconds instead."""
        t = time.monotonic()
        failures = 0
        while True:
            try:
                # The session's programs, not the user's systemd, which
                # logind keeps a while longer.
                _rc, out = self.guest_run(["/usr/bin/pgrep", "-c", "-u", user,
                                           "^(Xorg|xrdp-chansrv|icewm.*|xterm)$"], 30)
                if out.strip() == "0":
                    return time.monotonic() - t
            except (OSError, ValueError) as e:
                failures += 1
                log("  guest agent: %s" % e)
                if failures >= 3:
                    time.sleep(max(0.0, timeout / 3 - (time.monotonic() - t)))
                    return time.monotonic() - t
            if time.monotonic() - t > timeout:
                raise BenchError("the session of %s in the guest did not end within %g s"
                                 % (user, timeout))
            time.sleep(1)

    def vm_state(self):
        return self.vm_status().get("state") or "?"

    def stop_vm(self, stop_timeout):
        """vmdesk stop demo (ACPI; forced when that fails), wait for STOPPED;
        returns the seconds it took."""
        t = time.monotonic()
        r = self.vd("stop", "demo", "--timeout", str(stop_timeout),
                    timeout=stop_timeout + 60, check=False)
        if r.returncode not in (0, 4):
            self.vd("stop", "demo", "--force", check=False)
        self.vd("status", "demo", "--wait", "STOPPED", "--timeout", "60", timeout=90,
                check=False)
        state = self.vm_state()
        if state.upper() != "STOPPED":
            raise BenchError("the VM did not stop (state %s)" % state)
        return time.monotonic() - t

    # -- results -----------------------------------------------------------------

    def versions(self):
        def run(argv):
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
                return (r.stdout + r.stderr).strip().splitlines()[0]
            except (OSError, subprocess.SubprocessError, IndexError):
                return "?"

        return {"vmdesk": run([self.vmdesk, "--version"]),
                "vmdesk_commit": run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]),
                "vmdesk_built": built(self.vmdesk),
                "xfreerdp": run(["dpkg-query", "-W", "-f", "${Version}", "freerdp3-x11"]),
                "qemu": run(["qemu-system-x86_64", "--version"])}

    @staticmethod
    def machine():
        return {"host": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release()}

    # -- cleanup -----------------------------------------------------------------

    def cleanup(self):
        """Stop the clients (by pid), keep the logs (args.keep_logs), stop
        and delete the VM, stop the X servers, remove the temp folder."""
        old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM,
                                                               signal.SIGHUP)}
        keep = self.args.keep_logs
        try:
            for name, p in reversed(list(self.procs)):
                if name.startswith("xvfb"):
                    continue
                try:
                    self.stop(p)
                except Exception as e:
                    log("cleanup: %s: %s" % (name, e))
            if self.vm_created and keep:
                logs = os.path.join(self.env["XDG_DATA_HOME"], "vmdesk", "vms", "demo", "logs")
                try:
                    os.makedirs(keep, exist_ok=True)
                    for f in os.listdir(logs):
                        shutil.copy(os.path.join(logs, f), os.path.join(keep, "vm-" + f))
                except OSError as e:
                    log("cleanup: cannot keep the VM's logs: %s" % e)
            if self.vm_created:
                try:
                    self.vd("stop", "demo", "--force", timeout=60, check=False)
                    self.vd("status", "demo", "--wait", "STOPPED", "--timeout", "30",
                            timeout=45, check=False)
                    r = self.vd("delete", "demo", timeout=60, check=False)
                    if r.returncode:
                        log("cleanup: vmdesk delete demo: %s" % r.stderr.strip())
                except Exception as e:
                    log("cleanup: the VM: %s" % e)
            for name, p in reversed(list(self.procs)):
                try:
                    self.stop(p)
                except Exception as e:
                    log("cleanup: %s: %s" % (name, e))
            if self.tmp:
                if keep:
                    try:
                        os.makedirs(keep, exist_ok=True)
                        for f in os.listdir(self.tmp):
                            if f.endswith((".log", ".out", ".png", ".txt")):
                                shutil.copy(os.path.join(self.tmp, f), keep)
                    except OSError as e:
                        log("cleanup: cannot keep logs: %s" % e)
                shutil.rmtree(self.tmp, ignore_errors=True)
        finally:
            for s, h in old.items():
                signal.signal(s, h)


def run_main(prog, args, make_bench, print_table):
    """Run make_bench(args).run() with the signal handlers, print the results
    (JSON with args.json) and clean up whatever happens; returns the exit
    status: 0, 1 on failure, 128+N on a signal."""

    def on_signal(signum, frame):
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    bench = None
    rc = 1
    try:
        bench = make_bench(args)
        res = bench.run()
        if args.json:
            json.dump(res, sys.stdout, indent=2)
            print()
        else:
            print_table(res)
        rc = 0
    except BenchError as e:
        log("%s: FAILED: %s" % (prog, e))
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        log("%s: FAILED: %s: %s" % (prog, type(e).__name__, e))
    except KeyboardInterrupt:
        log("%s: interrupted; cleaning up" % prog)
        rc = 130
    except Interrupted as e:
        log("%s: got %s; cleaning up" % (prog, e))
        rc = 128 + int(getattr(signal, str(e), signal.SIGTERM))
    finally:
        if bench is not None:
            bench.cleanup()
    return rc
