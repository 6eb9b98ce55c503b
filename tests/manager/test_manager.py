#!/usr/bin/python3
"""vmdesk-manager end to end: the real GTK 4 program on an Xvfb, driven through
AT-SPI (pyatspi) inside the session bus of dbus-run-session, against real QEMU
running the test guest in a private vmdesk home.

Covers: both VMs listed with their state; Start really starts the VM (QEMU runs,
vmdesk agrees) and the state label follows; the card's picture is the VM's real
screen (compared with our own QMP screendump, and as drawn on the X screen:
the console's text pixels where QEMU has them);
Open runs `vmdesk view NAME` (its window appears); Pause/Resume; Force off (the
label follows, the window closes with its VM, and the manager does not notify
what it asked for); stops it did not ask for notified once with the reason
`vmdesk show` gives (the guest powering itself off: "stopped"; its QEMU
killed: "failed"); Delete says what it deletes and
removes the VM; a bad start is shown as a readable error in the window's
words, from Start and from Open (vmdesk view's error); the overlay question
after an on-shutdown=ask shutdown (said on the card in the window's words) is
answered with Keep (the changes stay in
the overlay), on a second question with Discard (they go), each leaving the
base as it was and no question, and on a third with Commit in the notification
(notification-daemon, a real notification server; a pointer click, as it
acts on button-release-event) while the window is closed, and the manager
then exits by itself.

Run by ctest through `dbus-run-session -- /usr/bin/python3 test_manager.py`
(Debian's python3: pyatspi and GdkPixbuf come from Debian packages).
Environment: VMDESK_BIN, VMDESK_MANAGER_BIN, VMDESK_TEST_GUEST_DIR; with
VMDESK_MANAGER_SCREENSHOT=PATH the grid with a running VM is saved there."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf  # noqa: E402
import pyatspi  # noqa: E402

VMDESK = os.environ["VMDESK_BIN"]
MANAGER = os.environ["VMDESK_MANAGER_BIN"]
GUEST = os.environ["VMDESK_TEST_GUEST_DIR"]
SCALE = float(os.environ.get("VMDESK_TEST_TIME_SCALE", "1"))
MANAGER_INTERVAL_S = 3  # MGR_SCREEN_INTERVAL_MS
THUMB_W, THUMB_H = 288, 216  # MGR_SCREEN_WIDTH, MGR_SCREEN_HEIGHT
DEBUG_DIR = os.environ.get("VMDESK_MANAGER_DEBUG_DIR")

children = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fail(msg):
    raise AssertionError(msg)


def wait_for(what, fn, timeout):
    deadline = time.monotonic() + timeout * SCALE
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            fail(f"timed out after {timeout * SCALE:.0f} s waiting for {what}")
        time.sleep(0.2)


# --- the private world ---------------------------------------------------------

# Private folders under @root, or (VMDESK_MANAGER_WORLD=DIR) the data/ and run/
# folders of a test that runs a manager test inside its own world (the demo
# guest's, which integration-apps-demo boots), left to that test. Whatever
# this test starts carries @root in its environment: cleanup() ends it.
root = tempfile.mkdtemp(prefix="vmdesk-mgr-")
WORLD = os.environ.get("VMDESK_MANAGER_WORLD")
env = dict(os.environ)
env["VMDESK_MANAGER_TEST_ROOT"] = root
env["XDG_DATA_HOME"] = os.path.join(WORLD or root, "data")
env["XDG_RUNTIME_DIR"] = os.path.join(WORLD or root, "run")
env["XDG_CONFIG_HOME"] = os.path.join(root, "config")
env["XDG_CACHE_HOME"] = os.path.join(root, "cache")
env["GSETTINGS_BACKEND"] = "memory"
env["G_DEBUG"] = "fatal-criticals"     # a GTK or GLib critical fails the test
env["G_MESSAGES_DEBUG"] = "vmdesk-manager"  # the manager's notifications in the log
env["GDK_BACKEND"] = "x11"
env["GSK_RENDERER"] = "cairo"   # no GPU here; cairo draws the same pictures every run
os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=bool(WORLD))


MANAGER_LOG = os.path.join(root, "manager.log")


def start_manager():
    """The manager, its output in MANAGER_LOG (with G_MESSAGES_DEBUG, what it
    notified; shown when the test fails)."""
    with open(MANAGER_LOG, "ab") as out:
        p = subprocess.Popen([MANAGER], env=env, stdout=out, stderr=subprocess.STDOUT)
    children.append(p)
    return p


def notified(title):
    """How often the manager notified @title (its log)."""
    try:
        with open(MANAGER_LOG, errors="replace") as f:
            return f.read().count(f"notified: {title}\n")
    except OSError:
        return 0


def vmdesk(*args, check=True):
    r = subprocess.run([VMDESK, *args], env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        fail(f"vmdesk {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def show(name):
    return json.loads(vmdesk("show", name, "--json").stdout)


def start_x():
    """Xvfb on a free display (-displayfd tells which), -noreset."""
    rfd, wfd = os.pipe()
    x = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-noreset", "-nolisten", "tcp",
                          "-screen", "0", "1280x800x24"], pass_fds=[wfd],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children.append(x)
    os.close(wfd)
    num = b""
    while not num.endswith(b"\n"):
        chunk = os.read(rfd, 16)
        if not chunk:
            fail("Xvfb did not start")
        num += chunk
    os.close(rfd)
    env["DISPLAY"] = ":" + num.decode().strip()
    log(f"Xvfb on {env['DISPLAY']}")


def create_guest(name):
    vmdesk("create", name, "--os", "other", "--memory", "256M", "--cpus", "1", "--disk", "0",
           "--kernel", os.path.join(GUEST, "vmlinux"), "--initrd",
           os.path.join(GUEST, "initrd.img"), "--append", "console=tty0 console=ttyS0")


# --- AT-SPI ----------------------------------------------------------------------


def find_app():
    for app in pyatspi.Registry.getDesktop(0):
        if app is not None and app.name == "vmdesk-manager":
            return app
    return None


def find_all(node, pred, out=None, depth=0):
    out = [] if out is None else out
    if node is None or depth > 60:
        return out
    try:
        if pred(node):
            out.append(node)
        for child in node:
            find_all(child, pred, out, depth + 1)
    except Exception:  # a widget that went away while we walked
        pass
    return out


def dump(node, depth=0):
    """The accessible tree under @node, for the log of a failure."""
    try:
        states = ",".join(pyatspi.stateToString(st) for st in node.getState().getStates())
        log("  " * depth + f"{node.getRoleName()} '{node.name}' ({states})")
        for child in node:
            dump(child, depth + 1)
    except Exception as e:
        log("  " * depth + f"(gone: {e})")


def find(app, role, name):
    hits = find_all(app, lambda n: n.getRole() == role and n.name == name)
    return hits[0] if hits else None


def showing(node):
    """GTK 4.8 sets VISIBLE (not SHOWING) and leaves hidden widgets out."""
    return node.getState().contains(pyatspi.STATE_VISIBLE)


def window(app, title):
    """The top-level window (or dialog) of @app titled @title, or showing a
    heading @title (AdwMessageDialog), or None."""
    for w in app:
        if w is not None and (w.name == title or find_all(
                w, lambda n: n.getRole() == pyatspi.ROLE_LABEL and n.name == title)):
            return w
    return None


def click(app, name, role=pyatspi.ROLE_PUSH_BUTTON, timeout=20, within=None):
    """Press the showing, enabled button @name (in the window @within, a title,
    when given) through its Action interface."""
    def ready():
        top = window(app, within) if within else app
        # AdwMessageDialog's response buttons are named twice ("Close Close").
        names = (name, f"{name} {name}")
        b = [n for n in find_all(top, lambda n: n.getRole() == role and n.name in names)
             if showing(n) and n.getState().contains(pyatspi.STATE_SENSITIVE)]
        return b[0] if b else None
    b = wait_for(f"button '{name}'", ready, timeout)
    action = b.queryAction()
    for i in range(action.nActions):
        if action.getName(i) in ("click", "press", "activate"):
            action.doAction(i)
            break
    else:
        action.doAction(0)
    log(f"clicked '{name}'")


def set_text(app, name, text, secret=False):
    """Fill the entry @name (an AdwEntryRow: its text is the child with
    EditableText) through AT-SPI; a @secret text is not logged."""
    def entry():
        rows = [n for n in find_all(app, lambda n: n.name == name) if showing(n)]
        for row in rows:
            for n in find_all(row, lambda n: n.getRole() in (pyatspi.ROLE_TEXT,
                                                            pyatspi.ROLE_PASSWORD_TEXT)) or [row]:
                try:
                    return n.queryEditableText()
                except NotImplementedError:
                    pass
        return None
    e = wait_for(f"entry '{name}'", entry, 20)
    e.setTextContents(text)
    log(f"typed {'a secret' if secret else repr(text)} into '{name}'")


def card_labels(app, vm):
    """The texts of the labels in @vm's card (name, state, accelerator, reason)."""
    name = [n for n in find_all(app, lambda n: n.getRole() == pyatspi.ROLE_LABEL and n.name == vm)
            if showing(n)]
    if not name:
        return []
    box = name[0].parent
    return [n.name for n in find_all(box, lambda n: n.getRole() == pyatspi.ROLE_LABEL)
            if showing(n)]


def wait_state(app, vm, text, timeout):
    wait_for(f"{vm} to show '{text}'", lambda: text in card_labels(app, vm), timeout)
    log(f"{vm} shows '{text}': {card_labels(app, vm)}")


# --- pictures ----------------------------------------------------------------------


def qmp_screendump(name, path):
    """Our own screendump through the VM's QMP socket (QEMU serves one client
    at a time: retry while the manager holds it)."""
    sock_path = os.path.join(env["XDG_RUNTIME_DIR"], "vmdesk", name, "qmp.sock")
    for _ in range(50):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        try:
            s.connect(sock_path)
            f = s.makefile("rw")
            json.loads(f.readline())  # greeting
            for cmd in ({"execute": "qmp_capabilities"},
                        {"execute": "screendump", "arguments": {"filename": path, "format": "png"}}):
                f.write(json.dumps(cmd) + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break
                if "error" in reply:
                    fail(f"QMP {cmd['execute']}: {reply['error']}")
            return
        except (OSError, ValueError):
            time.sleep(0.2)
        finally:
            s.close()
    fail("cannot reach the VM's QMP socket")


def pixels(pb):
    return pb.get_width(), pb.get_height(), pb.get_n_channels(), pb.get_rowstride(), \
        pb.get_pixels()


def same_fraction(a, b):
    """The fraction of pixels (RGB) equal in the two pictures of one size."""
    wa, ha, na, ra, pa = pixels(a)
    wb, hb, nb, rb, pb_ = pixels(b)
    if (wa, ha) != (wb, hb):
        return 0.0
    same = 0
    for y in range(ha):
        for x in range(0, wa, 2):  # every other column is plenty
            ia, ib = y * ra + x * na, y * rb + x * nb
            if pa[ia:ia + 3] == pb_[ib:ib + 3]:
                same += 1
    return same / (ha * ((wa + 1) // 2))


def placed_diff(full, ref, points, x0, y0):
    """The mean difference per channel between the picture @ref's @points
    and the picture @full's pixels where @ref lies with its corner at @x0,@y0
    (255 when it does not fit)."""
    fw, fh, fn, fr, fp = pixels(full)
    _, _, rn, rr, rp = pixels(ref)
    total = 0
    for x, y in points:
        fx, fy = x0 + x, y0 + y
        if not (0 <= fx < fw and 0 <= fy < fh):
            return 255.0
        i, j = fy * fr + fx * fn, y * rr + x * rn
        total += abs(fp[i] - rp[j]) + abs(fp[i + 1] - rp[j + 1]) + abs(fp[i + 2] - rp[j + 2])
    return total / (3 * len(points))


def luma(p, i):
    return (p[i] * 3 + p[i + 1] * 6 + p[i + 2]) // 10


def compare_drawn(full, q, ext):
    """Whether the X screen @full shows QEMU's screen @q in the picture's
    place @ext. The guest's console is mostly black, so a black card would
    be close on average: the comparison is made on the console's text (the
    pixels bright in QEMU's screen), where a black card is as far off as the
    text is bright and the same text one text row or a few pixels off is far
    off too; the black around the text must match as well."""
    # The manager's way: QEMU's screen fit into the thumbnail's size by
    # gdk-pixbuf (bilinear), then fit into the picture's area when drawn
    # (content-fit contain, centred).
    t = min(THUMB_W / q.get_width(), THUMB_H / q.get_height())
    thumb = q.scale_simple(round(q.get_width() * t), round(q.get_height() * t),
                           GdkPixbuf.InterpType.BILINEAR)
    s = min(ext.width / thumb.get_width(), ext.height / thumb.get_height())
    w, h = round(thumb.get_width() * s), round(thumb.get_height() * s)
    ref = thumb.scale_simple(w, h, GdkPixbuf.InterpType.BILINEAR)
    _, _, rn, rr, rp = pixels(ref)
    text, dark = [], []
    for y in range(h):
        for x in range(w):
            (text if luma(rp, y * rr + x * rn) > 60 else dark).append((x, y))
    share = len(text) / (w * h)
    if share < 0.005:
        log(f"too little text on the guest's screen to compare yet ({share:.1%})")
        return False
    text = text[::max(1, len(text) // 1500)]
    dark = dark[::max(1, len(dark) // 3000)]
    x0, y0 = ext.x + (ext.width - w) // 2, ext.y + (ext.height - h) // 2

    def diff(points, dx, dy):
        return placed_diff(full, ref, points, x0 + dx, y0 + dy)
    # AT-SPI gives the place in GTK's window, whose origin lies a few pixels
    # inside the X window (the frame of client-side decorations): look
    # around it.
    d_text, dx, dy = min((diff(text, dx, dy), dx, dy)
                         for dx in range(-8, 9) for dy in range(-8, 9))
    d_dark = diff(dark, dx, dy)
    d_shift = min(diff(text, dx + 8, dy), diff(text, dx, dy + 8))
    d_black = sum(luma(rp, y * rr + x * rn) for x, y in text) / len(text)
    log(f"drawn picture vs QEMU's screen at {dx:+d},{dy:+d}: text {d_text:.1f}, "
        f"background {d_dark:.1f} (text is {share:.1%} of it; a black card {d_black:.1f}, "
        f"shifted 8 px {d_shift:.1f})")
    if DEBUG_DIR:
        full.savev(os.path.join(DEBUG_DIR, "x.png"), "png", [], [])
        ref.savev(os.path.join(DEBUG_DIR, "ref.png"), "png", [], [])
    return d_text < 12 and d_dark < 6 and d_text < d_black / 4 and d_text < d_shift / 2


def x_screenshot(path):
    subprocess.run(["import", "-window", "root", path], env=env, check=True)


# --- the overlay question ----------------------------------------------------------


def serial_has(name, needle):
    log_path = os.path.join(env["XDG_DATA_HOME"], "vmdesk", "vms", name, "logs", "serial.log")
    try:
        with open(log_path, errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    run = text.rfind(": starting QEMU\n")
    return needle in text[run if run >= 0 else 0:]


def notification_button(label):
    """The button @label of a notification shown by notification-daemon."""
    for a in pyatspi.Registry.getDesktop(0):
        if a is not None and a.name == "notification-daemon":
            hits = [n for n in find_all(a, lambda n: n.getRole() == pyatspi.ROLE_PUSH_BUTTON and
                                        n.name == label) if showing(n)]
            if hits:
                return hits[0]
    return None


notification_daemon = []


def start_notification_daemon():
    """notification-daemon, a real notification server, on this session bus
    (once)."""
    if not notification_daemon:
        d = subprocess.Popen(["/usr/lib/notification-daemon/notification-daemon"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(d)
        notification_daemon.append(d)


def overlay_question(app, mgr):
    """on-shutdown=ask: the guest writes into its overlay and shuts down; the
    manager asks in a notification (a real notification server,
    notification-daemon, on this session bus), the manager's window is
    closed, and Commit in the notification writes the guest's data into the
    base; then the manager, holding nothing any more, exits by itself."""
    start_notification_daemon()
    base = os.path.join(root, "base.raw")
    with open(base, "wb") as f:
        f.write(b"BASE\n".ljust(16 << 20, b"\0"))
    vmdesk("create", "ov", "--os", "other", "--memory", "256M", "--cpus", "1", "--disk", "0",
           "--kernel", os.path.join(GUEST, "vmlinux"), "--initrd",
           os.path.join(GUEST, "initrd.img"), "--append",
           "console=tty0 console=ttyS0 vmdesk.disk-mark=NEW1",
           "--base", base, "--overlay", "--on-shutdown", "ask")
    wait_state(app, "ov", "Stopped", 20)
    click(app, "Start ov")
    wait_state(app, "ov", "Running", 180)
    wait_for("the guest to write into its overlay",
             lambda: serial_has("ov", "VMDESK-DISK-WROTE NEW1"), 180)
    wait_for("the guest to be ready", lambda: serial_has("ov", "VMDESK-GUEST-READY"), 180)
    click(app, "Shut down ov")
    wait_state(app, "ov", "Stopped", 120)
    # The card's reason in the window's words; the command line keeps its own.
    said = wait_for("ov's reason on its card", lambda: [
        lbl for lbl in card_labels(app, "ov") if "kept the overlay" in lbl], 20)[0]
    log(f"ov's card says: {said}")
    if "vmdesk overlay" in said or "waits for an answer" not in said:
        fail(f"ov's reason is not in the window's words: {said}")
    if "vmdesk overlay status" not in (show("ov").get("reason") or ""):
        fail(f"the command line's reason changed: {show('ov').get('reason')}")
    status = json.loads(vmdesk("overlay", "ov", "status", "--json").stdout)
    if not status["pending"]:
        fail(f"the shutdown left no question: {status}")
    overlay_keep_and_discard(app, base)
    for label in ("Discard", "Keep"):
        wait_for(f"the notification's {label}", lambda: notification_button(label), 30)
    commit = wait_for("the notification's Commit", lambda: notification_button("Commit"), 30)

    # The window closes; the question holds the manager.
    wm = subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    children.append(wm)
    def window_closed():
        # Ask again on every poll while the window is still there: the first
        # request can come before openbox manages the window, and a request
        # that closed it can come before AT-SPI has dropped it from the tree.
        if not [w for w in app if w is not None and w.name == "vmdesk Manager"]:
            return True
        subprocess.run(["wmctrl", "-c", "vmdesk Manager"], env=env, capture_output=True)
        return False
    wait_for("the manager's window closed", window_closed, 20)
    time.sleep(1)
    if mgr.poll() is not None:
        fail("the manager exited with the overlay question open")
    with open(base, "rb") as f:
        if not f.read(5) == b"BASE\n":
            fail("the base changed before the answer")
    # notification-daemon acts on its buttons' button-release-event, not on
    # "clicked" (which AT-SPI's action emits): a real pointer click there,
    # where AT-SPI places the button (GTK 3 gives screen coordinates).
    ext = commit.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    subprocess.run(["xdotool", "mousemove", str(ext.x + ext.width // 2),
                    str(ext.y + ext.height // 2), "click", "1"], env=env, check=True)
    log(f"clicked the notification's Commit at {ext.x},{ext.y} {ext.width}x{ext.height}")

    def committed():
        with open(base, "rb") as f:
            return f.read(5) == b"NEW1\n"
    try:
        wait_for("the guest's data in the base", committed, 60)
    except AssertionError:
        for a in pyatspi.Registry.getDesktop(0):
            if a is not None and a.name == "notification-daemon":
                log("notification-daemon's accessible tree:")
                dump(a)
        raise
    status = json.loads(vmdesk("overlay", "ov", "status", "--json").stdout)
    log(f"overlay after Commit: pending {status['pending']}, changed {status['changed-bytes']}")
    if status["pending"] or status["changed-bytes"]:
        fail("the commit left the question or the overlay's data")
    wait_for("the notification to go", lambda: not notification_button("Commit"), 20)
    wait_for("the manager to exit, nothing held", lambda: mgr.poll() is not None, 20)
    if mgr.returncode != 0:
        fail(f"the manager exited with {mgr.returncode}")


# --- what the manager did not ask for ------------------------------------------------


def notification_texts(title):
    """The texts of the notification @title that notification-daemon shows
    (its title among them), or None."""
    for a in pyatspi.Registry.getDesktop(0):
        if a is None or a.name != "notification-daemon":
            continue
        for w in a:
            texts = [n.name for n in find_all(w, lambda n: n.getRole() == pyatspi.ROLE_LABEL)
                     if showing(n) and n.name]
            if title in texts:
                return texts
    return None


def expect_state_notification(vm, title):
    """The notification @title is shown, once, its body the reason `vmdesk
    show` gives."""
    reason = show(vm).get("reason")
    texts = wait_for(f"the notification '{title}'", lambda: notification_texts(title), 30)
    log(f"notification: {texts}; vmdesk show's reason: {reason!r}")
    if not reason or [t for t in texts if t != title] != [reason]:
        fail(f"the notification '{title}' does not say the reason {reason!r}: {texts}")
    if notified(title) != 1:
        fail(f"the manager notified '{title}' {notified(title)} times")


def guest_poweroff(name):
    """`poweroff -f` in the test guest's shell on its serial console, once
    the shell answers (it starts after the READY line; what is typed before
    may be lost); the console is held until QEMU closes it (QEMU drops what
    it has not yet handed to the guest's UART when the client goes)."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(env["XDG_RUNTIME_DIR"], "vmdesk", name, "serial.sock"))
    s.settimeout(1)
    got = b""
    try:
        deadline = time.monotonic() + 60 * SCALE
        # (the command's echo has $((40+2)), the answer 42)
        while b"SHELL-42" not in got:
            if time.monotonic() > deadline:
                fail(f"{name}'s shell does not answer: {got[-300:]!r}")
            s.sendall(b"\necho SHELL-$((40+2))\n")
            end = time.monotonic() + 2
            while b"SHELL-42" not in got and time.monotonic() < end:
                try:
                    got += s.recv(4096)
                except socket.timeout:
                    pass
        s.sendall(b"poweroff -f\n")
        log(f"{name}'s guest: poweroff -f")
        deadline = time.monotonic() + 60 * SCALE
        while True:
            if time.monotonic() > deadline:
                fail(f"{name}'s QEMU did not end after poweroff -f: {got[-300:]!r}")
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
    finally:
        s.close()
    log(f"{name}'s QEMU closed its console")


def unasked_stops(app):
    """A stop the manager did not ask for is notified, with its reason: the
    guest powering itself off (from its shell), QEMU killed. The manager's
    own Force off just before was not."""
    for title in ("t1 stopped", "t1 failed"):
        if notified(title):
            fail(f"the manager notified '{title}' for its own Force off")
    vmdesk("start", "t1")
    wait_state(app, "t1", "Running", 180)
    wait_for("t1's shell", lambda: serial_has("t1", "VMDESK-GUEST-READY"), 180)
    guest_poweroff("t1")
    wait_state(app, "t1", "Stopped", 60)
    expect_state_notification("t1", "t1 stopped")

    vmdesk("start", "t1")
    wait_state(app, "t1", "Running", 180)
    pid = show("t1")["process"]["qemu-pid"]
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        if b"qemu-system" not in f.read():
            fail(f"pid {pid} is no QEMU")
    os.kill(pid, signal.SIGKILL)
    log(f"killed t1's QEMU (pid {pid})")
    wait_state(app, "t1", "Failed", 60)
    expect_state_notification("t1", "t1 failed")


def show_manager_log():
    try:
        with open(MANAGER_LOG, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    log("the manager's output (its end):")
    for line in lines[-150:]:
        print("  " + line, flush=True)


# --- the overlay question's Keep and Discard ---------------------------------------------


def click_notification(label):
    """A pointer click on notification-daemon's button @label (it acts on
    button-release-event, not on AT-SPI's click)."""
    b = wait_for(f"the notification's {label}", lambda: notification_button(label), 30)
    ext = b.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
    subprocess.run(["xdotool", "mousemove", str(ext.x + ext.width // 2),
                    str(ext.y + ext.height // 2), "click", "1"], env=env, check=True)
    log(f"clicked the notification's {label}")


def overlay_status():
    return json.loads(vmdesk("overlay", "ov", "status", "--json").stdout)


def base_unchanged(base):
    with open(base, "rb") as f:
        if f.read(5) != b"BASE\n":
            fail("the base changed")


def answered(label):
    """The answer @label applied: no question left, its notification gone."""
    wait_for(f"{label} to be applied", lambda: not overlay_status()["pending"], 30)
    wait_for("the notification to go", lambda: not notification_button(label), 20)


def ask_again(app):
    """A new question with no boot: ov started from the command line and
    forced off by the manager (QEMU quits cleanly: the policy runs)."""
    vmdesk("start", "ov")
    wait_state(app, "ov", "Running", 60)
    click(app, "Force off ov")
    wait_state(app, "ov", "Stopped", 60)
    if not overlay_status()["pending"]:
        fail("the stop left no question")
    for label in ("Commit", "Discard", "Keep"):
        wait_for(f"the notification's {label}", lambda: notification_button(label), 30)


def overlay_keep_and_discard(app, base):
    """On the question the guest's shutdown left: Keep leaves the changes in
    the overlay; on another question, Discard throws them away; the base
    stays as it was. Then the guest's data is written into the overlay again
    (qemu-io, as the guest wrote it) for the question Commit answers."""
    changed = overlay_status()["changed-bytes"]
    if not changed:
        fail("the guest changed nothing in its overlay")
    click_notification("Keep")
    answered("Keep")
    st = overlay_status()
    log(f"overlay after Keep: pending {st['pending']}, changed {st['changed-bytes']}")
    if st["changed-bytes"] != changed:
        fail(f"Keep did not keep the changes ({changed} bytes): {st}")
    base_unchanged(base)

    ask_again(app)
    if not overlay_status()["changed-bytes"]:
        fail("the changes went before Discard")
    click_notification("Discard")
    answered("Discard")
    st = overlay_status()
    log(f"overlay after Discard: pending {st['pending']}, changed {st['changed-bytes']}")
    if st["changed-bytes"]:
        fail(f"Discard left changes: {st}")
    base_unchanged(base)

    sector = os.path.join(root, "new1.sector")
    with open(sector, "wb") as f:
        f.write(b"NEW1\n".ljust(512, b"\0"))
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -s {sector} 0 512", st["overlay"]],
                   check=True, capture_output=True)
    ask_again(app)


# --- the test ------------------------------------------------------------------


def main():
    start_x()
    create_guest("t1")
    create_guest("t2")
    vm_dir = os.path.join(env["XDG_DATA_HOME"], "vmdesk", "vms", "t1")

    start_notification_daemon()
    t0 = time.monotonic()
    mgr = start_manager()
    app = wait_for("the manager on the accessibility bus", find_app, 60)
    wait_for("the two VMs", lambda: card_labels(app, "t1") and card_labels(app, "t2"), 30)
    log(f"manager up with both VMs in {time.monotonic() - t0:.1f} s")
    wait_state(app, "t1", "Stopped", 10)
    wait_state(app, "t2", "Stopped", 10)

    # A VM created while the manager runs appears by itself.
    create_guest("t3")
    wait_for("t3 to appear", lambda: card_labels(app, "t3"), 20)

    # The assistant: a file that is no CD image is refused in the dialog with
    # nothing made; a real one makes the VM, which appears in the grid.
    bad_iso = os.path.join(root, "bad.iso")
    with open(bad_iso, "wb") as f:
        f.write(os.urandom(64 * 1024))
    good_iso = os.path.join(root, "good.iso")
    os.makedirs(os.path.join(root, "cd"))
    with open(os.path.join(root, "cd", "README"), "w") as f:
        f.write("an installer\n")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", good_iso,
                    os.path.join(root, "cd")], check=True, capture_output=True)
    click(app, "New virtual machine")
    set_text(app, "Name", "made")
    set_text(app, "Installer CD image (ISO)", bad_iso)
    click(app, "Create")
    err = wait_for("the bad ISO's error", lambda: [
        n.name for n in find_all(app, lambda n: n.getRole() == pyatspi.ROLE_LABEL and
                                 "is not a CD image" in n.name)], 30)[0]
    log(f"assistant says: {err}")
    made_dir = os.path.join(env["XDG_DATA_HOME"], "vmdesk", "vms", "made")
    if os.path.exists(made_dir):
        fail("a refused VM left its folder")
    set_text(app, "Installer CD image (ISO)", good_iso)
    click(app, "Create")
    wait_for("the made VM in the grid", lambda: "Stopped" in card_labels(app, "made"), 60)
    made = show("made")
    log(f"made: {made['config']['os'] if 'config' in made else made}")
    if vmdesk("show", "made").stdout.find(good_iso) < 0:
        fail("the made VM has not got the CD image")

    # A start that fails is shown as a readable error: t2's kernel is gone.
    t2_cfg = os.path.join(env["XDG_DATA_HOME"], "vmdesk", "vms", "t2", "vm.conf")
    moved_kernel = os.path.join(root, "vmlinux-t2")
    shutil.copy(os.path.join(GUEST, "vmlinux"), moved_kernel)
    vmdesk("set", "t2", f"kernel={moved_kernel}")
    os.unlink(moved_kernel)
    # It is said in the window's words: what to do, not vmdesk set's syntax
    # (the command line still says "vmdesk set t2 kernel=PATH"). Opening its
    # window runs vmdesk view, which fails the same way: its error too.
    for button, title in (("Start t2", "Could not start t2"),
                          ("Open its window t2", "The window of t2 closed with an error")):
        click(app, button)
        err = wait_for(f"the error '{title}'", lambda: [
            n.name for n in find_all(window(app, title), lambda n: n.getRole() ==
                                     pyatspi.ROLE_LABEL and "cannot be read" in n.name and
                                     moved_kernel in n.name)] if window(app, title) else [], 60)
        log(f"error shown: {err[0]}")
        if ("vmdesk set" in err[0] or "=PATH" in err[0] or
                "change the VM's kernel setting" not in err[0]):
            fail(f"the error of '{button}' is not in the window's words: {err[0]}")
        click(app, "Close", within=title)
        wait_for(f"'{title}' to close", lambda: not window(app, title), 10)
    cli = vmdesk("start", "t2", check=False)
    if "vmdesk set t2 kernel=PATH" not in cli.stderr:
        fail(f"the command line's message changed: {cli.stderr}")
    assert os.path.exists(t2_cfg)

    # Start: the VM really runs, and the label follows the supervisor.
    click(app, "Start t1")
    wait_state(app, "t1", "Running", 180)
    st = show("t1")
    qemu_pid = st.get("process", {}).get("qemu-pid", 0)
    log(f"vmdesk show t1: state {st['state']}, QEMU pid {qemu_pid}")
    if st["state"] != "RUNNING":
        fail(f"vmdesk says t1 is {st['state']}")
    with open(f"/proc/{qemu_pid}/cmdline", "rb") as f:
        if b"qemu-system" not in f.read():
            fail(f"pid {qemu_pid} is no QEMU")
    labels = card_labels(app, "t1")
    if not any(lbl.startswith("TCG") or lbl == "KVM" for lbl in labels):
        fail(f"no accelerator on t1's card: {labels}")

    # The picture is the VM's real screen: the saved one equals our own
    # screendump (the guest's console changes while it boots: retry).
    screen = os.path.join(vm_dir, "screen.png")
    ours = os.path.join(root, "ours.png")

    def screens_match():
        if not os.path.exists(screen):
            return None
        qmp_screendump("t1", ours)
        a = GdkPixbuf.Pixbuf.new_from_file(screen)
        b = GdkPixbuf.Pixbuf.new_from_file(ours)
        f = same_fraction(a, b)
        log(f"saved screen vs QMP screendump: {f:.4f} of pixels equal "
            f"({a.get_width()}x{a.get_height()})")
        return f >= 0.995
    wait_for("the manager's picture to match QEMU's screen", screens_match, 60)

    # ... and it is what the window draws: the card's picture on the X screen
    # against QEMU's screen at the same moment, scaled to the same size. The
    # guest's console is mostly black, so a black card would be close on
    # average: the comparison is made on the console's text, the pixels that
    # are bright in QEMU's screen, and on the black around them, and the text
    # must be where QEMU has it (the same text shifted by a few pixels fails).
    pic = wait_for("t1's picture", lambda: [
        n for n in find_all(app, lambda n: n.name == "Screen of t1") if showing(n)], 20)[0]
    ext = pic.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
    log(f"picture at {ext.x},{ext.y} {ext.width}x{ext.height} in the window")
    shot = os.path.join(root, "x.png")
    before = os.path.join(root, "before.png")

    def drawn_matches():
        # A screen that stays still over two refreshes of the card: what the
        # card shows now is what QEMU shows now.
        qmp_screendump("t1", before)
        time.sleep(MANAGER_INTERVAL_S * 2 + 0.5)
        x_screenshot(shot)
        qmp_screendump("t1", ours)
        a = GdkPixbuf.Pixbuf.new_from_file(before)
        q = GdkPixbuf.Pixbuf.new_from_file(ours)
        # (a blinking cursor is no change)
        if same_fraction(a, q) < 0.998:
            log("the guest's screen changed meanwhile; again")
            return None
        full = GdkPixbuf.Pixbuf.new_from_file(shot)
        return compare_drawn(full, q, ext)
    wait_for("the window to draw the VM's screen", drawn_matches, 120)
    if os.environ.get("VMDESK_MANAGER_SCREENSHOT"):
        shutil.copy(shot, os.environ["VMDESK_MANAGER_SCREENSHOT"])

    # Open: `vmdesk view t1` runs as a process of its own, with its window.
    click(app, "Open its window t1")

    def view_window():
        tree = subprocess.run(["xwininfo", "-root", "-tree"], env=env, capture_output=True,
                              text=True).stdout
        return [line for line in tree.splitlines() if "t1" in line and "vmdesk" in line.lower()]
    log(f"vmdesk view window: {wait_for('the view window', view_window, 60)[0].strip()}")

    # Pause and resume.
    click(app, "Pause t1")
    wait_state(app, "t1", "Paused", 30)
    if show("t1")["state"] != "PAUSED":
        fail("vmdesk does not say PAUSED")
    click(app, "Resume t1")
    wait_state(app, "t1", "Running", 30)

    # Force off: the label follows, the view window goes with its VM, and the
    # last picture stays on the card.
    click(app, "Force off t1")
    wait_state(app, "t1", "Stopped", 60)
    if show("t1")["state"] != "STOPPED":
        fail("vmdesk does not say STOPPED")
    wait_for("the view window to close", lambda: not view_window(), 30)
    wait_for("t1's last picture", lambda: [
        n for n in find_all(app, lambda n: n.name == "Screen of t1") if showing(n)], 10)

    unasked_stops(app)

    # Delete says what goes, and removes it.
    click(app, "Delete t1")
    body = wait_for("the delete confirmation", lambda: [
        n.name for n in find_all(app, lambda n: n.getRole() == pyatspi.ROLE_LABEL and
                                 n.name.startswith("This removes the folder"))], 10)[0]
    log(f"confirmation: {body}")
    if vm_dir not in body or "menu entries" not in body:
        fail("the confirmation does not say what is deleted")
    click(app, "Delete", within="Delete t1?")
    wait_for("t1 to leave the grid", lambda: not card_labels(app, "t1"), 30)
    if os.path.exists(vm_dir):
        fail(f"{vm_dir} is still there")
    if "t1" in vmdesk("list").stdout:
        fail("vmdesk still lists t1")

    overlay_question(app, mgr)
    for title in ("t1 stopped", "t1 failed"):
        if notified(title) != 1:
            fail(f"the manager notified '{title}' {notified(title)} times, not once")
    log("PASS")


def cleanup():
    for p in reversed(children):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    # Anything of ours still running (a VM left by a failure) goes too.
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                mine = root.encode() in f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                mine = mine or root.encode() in f.read()
        except OSError:
            continue
        if mine:
            log(f"left behind: pid {pid}")
            os.kill(int(pid), signal.SIGKILL)
            leftovers.append(pid)
    shutil.rmtree(root, ignore_errors=True)


leftovers = []


def run(main, failure_png=None):
    """Run a test's @main: on a failure, a picture of the screen (saved as
    @failure_png in VMDESK_MANAGER_DEBUG_DIR, else /tmp) and the manager's
    accessible tree in the log; then everything started goes."""
    try:
        main()
    except AssertionError:
        if failure_png and "DISPLAY" in env:
            x_screenshot(os.path.join(os.environ.get("VMDESK_MANAGER_DEBUG_DIR", "/tmp"),
                                      failure_png))
        app = find_app()
        if app:
            log("the manager's accessible tree:")
            dump(app)
        show_manager_log()
        raise
    finally:
        cleanup()
    if leftovers:
        sys.exit("processes were left behind")


if __name__ == "__main__":
    run(main)
