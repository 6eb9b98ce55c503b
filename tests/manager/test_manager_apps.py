#!/usr/bin/python3
"""vmdesk-manager's Programs tab on the demo guest (Debian 12 with xrdp, IceWM,
xterm and the QEMU guest agent; tools/demo-guest): the real GTK 4 program on
an Xvfb, driven through AT-SPI (pyatspi) inside dbus-run-session, on the demo
guest that integration-apps-demo (tests/integration/test_apps_demo.c) has
booted: that test runs this one inside its world, so the guest boots once
for both.

Covers, on the running VM's page: "Ask the guest" lists every program that
`vmdesk apps list` reported (its name and program), with the guest's own
icon drawn beside it (the icon file read from the guest through its agent
and decoded as the manager does, compared with the window's pixels: the
stand-in icon does not match); "Add to menu" writes the program's desktop
entry into XDG_DATA_HOME (Exec runs this vmdesk's `app` on the VM and the
program; a copy is left for the calling test, which compares it with the
entry `vmdesk apps install` writes) with its icons, and "Remove from menu"
removes them; "Launch" opens the program in a window of its own (`vmdesk
app`, the manager's child: a desktop session whose shell is the program on
xrdp), titled "xterm (VM)" and then what the window says ("xterm (VM) —
RUNNING — RDP — vmdesk"), which shows xterm over RDP, while the program runs
in the guest as the desktop user (the guest agent says so); when it ends
there, the window goes and no error is shown.

Environment as test_manager.py, and VMDESK_MANAGER_WORLD (the calling test's
folder: data/ and run/), VMDESK_MANAGER_VM (the running demo VM),
VMDESK_MANAGER_APPS_JSON (`vmdesk apps list --json` as the caller got it),
VMDESK_MANAGER_ENTRY_COPY (where the entry the manager wrote is copied),
VMDESK_DEMO_GUEST_DIR (guest.env: the desktop user); with
VMDESK_MANAGER_APPS_SCREENSHOT=PATH the page's window is saved there (the
Programs tab, xterm in the menu), with VMDESK_MANAGER_LAUNCH_SCREENSHOT=PATH
the launched program's window."""

import base64
import json
import os
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_manager as tm  # noqa: E402  (the world: the caller's folders, our Xvfb)
import test_manager_page as tp  # noqa: E402
import pyatspi  # noqa: E402
from gi.repository import GdkPixbuf, Gio, GLib  # noqa: E402

log, fail, wait_for, click = tm.log, tm.fail, tm.wait_for, tm.click
VM = os.environ["VMDESK_MANAGER_VM"]
PAGE = f"Details of {VM}"
TITLE = f"xterm ({VM})"  # `vmdesk app` titles the window "PROGRAM (VM) — ..."
ICON_PX = 32             # the Programs tab's icon size (mgr_page.c)


def guest_user():
    with open(os.path.join(os.environ["VMDESK_DEMO_GUEST_DIR"], "guest.env")) as f:
        for line in f:
            if line.startswith("USER="):
                return shlex.split(line[len("USER="):])[0]
    fail("guest.env has no USER")


# --- the guest agent (QGA over its socket; qemu-ga serves one client at a time) ---


class Agent:
    def __init__(self, timeout=60):
        path = os.path.join(tm.env["XDG_RUNTIME_DIR"], "vmdesk", VM, "qga.sock")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout * tm.SCALE)
        self.sock.connect(path)
        self.buf = b""
        # guest-sync-delimited: the answer follows a 0xff, after whatever an
        # earlier client left unread.
        token = int(time.time() * 1000) % 2**31
        self.send("guest-sync-delimited", {"id": token})
        while True:
            self.fill()
            i = self.buf.find(b"\xff")
            if i >= 0:
                self.buf = self.buf[i + 1:]
                break
            self.buf = b""
        while self.reply() != token:
            pass

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            fail("the guest agent closed the connection")
        self.buf += chunk

    def send(self, cmd, args):
        self.sock.sendall(json.dumps({"execute": cmd, "arguments": args}).encode() + b"\n")

    def reply(self):
        while b"\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\n", 1)
        if not line.strip():
            return self.reply()
        msg = json.loads(line)
        if "error" in msg:
            fail(f"the guest agent: {msg['error']}")
        return msg["return"]

    def call(self, cmd, args):
        self.send(cmd, args)
        return self.reply()

    def close(self):
        self.sock.close()


def guest_run(argv):
    """Run @argv in the guest: its exit code and stdout."""
    a = Agent()
    try:
        pid = a.call("guest-exec", {"path": argv[0], "arg": argv[1:],
                                    "capture-output": True})["pid"]
        deadline = time.monotonic() + 60 * tm.SCALE
        while True:
            st = a.call("guest-exec-status", {"pid": pid})
            if st["exited"]:
                out = base64.b64decode(st.get("out-data", "")).decode(errors="replace")
                return st.get("exitcode", -1), out
            if time.monotonic() > deadline:
                fail(f"{argv} did not end in the guest")
            time.sleep(0.2)
    finally:
        a.close()


def guest_file(path):
    """The bytes of the guest's file @path."""
    a = Agent()
    try:
        h = a.call("guest-file-open", {"path": path, "mode": "r"})
        data = b""
        while True:
            r = a.call("guest-file-read", {"handle": h, "count": 1 << 20})
            data += base64.b64decode(r["buf-b64"])
            if r["eof"]:
                break
        a.call("guest-file-close", {"handle": h})
        return data
    finally:
        a.close()


# --- what the window shows ---------------------------------------------------------


def labels(app):
    return {n.name for n in tm.find_all(tm.window(app, PAGE),
                                        lambda n: n.getRole() == pyatspi.ROLE_LABEL)}


def page_window_png(path):
    """A picture of the page's own X window (xwininfo finds it by its title)."""
    tree = subprocess.run(["xwininfo", "-root", "-tree"], env=tm.env, capture_output=True,
                          text=True).stdout
    ids = [ln.split()[0] for ln in tree.splitlines() if f'"{PAGE}"' in ln]
    if not ids:
        fail(f"no X window titled {PAGE}")
    subprocess.run(["import", "-window", ids[0], path], env=tm.env, check=True)


def icon_drawn(app, a, shot):
    """Whether the picture @shot of the page shows @a's guest icon where the
    row's image is: the guest's icon file, decoded at the row's size as the
    manager does (gdk-pixbuf), against the window's pixels around the place
    AT-SPI gives (GTK's window origin lies a few pixels inside the X window:
    looked for nearby). The opaque pixels must match; the stand-in icon
    (application-x-executable-symbolic) does not."""
    data = guest_file(a["icon"]["path"])
    stream = Gio.MemoryInputStream.new_from_bytes(GLib.Bytes.new(data))
    ref = GdkPixbuf.Pixbuf.new_from_stream_at_scale(stream, ICON_PX, ICON_PX, True, None)
    if not ref.get_has_alpha():
        ref = ref.add_alpha(False, 0, 0, 0)
    row = [n for n in tm.find_all(tm.window(app, PAGE), lambda n: n.name == a["name"] and
                                  n.getRole() == pyatspi.ROLE_LABEL)][0]
    # The image is the row's, beside its title: the nearest image up the tree.
    node, images = row, []
    while node is not None and not images:
        node = node.parent
        images = tm.find_all(node, lambda n: n.getRole() in (pyatspi.ROLE_IMAGE, pyatspi.ROLE_ICON))
    if not images:
        fail(f"no image in {a['name']}'s row")
    ext = images[0].queryComponent().getExtents(pyatspi.WINDOW_COORDS)
    full = GdkPixbuf.Pixbuf.new_from_file(shot)
    rw, rh, rn, rr, rp = tm.pixels(ref)
    opaque = [(x, y) for y in range(rh) for x in range(rw) if rp[y * rr + x * rn + 3] > 240]
    if len(opaque) < rw * rh // 8:
        fail(f"{a['name']}'s icon is too transparent to compare")
    x0 = ext.x + (ext.width - rw) // 2
    y0 = ext.y + (ext.height - rh) // 2

    def diff(dx, dy):
        return tm.placed_diff(full, ref, opaque, x0 + dx, y0 + dy)
    d, dx, dy = min((diff(dx, dy), dx, dy) for dx in range(-12, 13) for dy in range(-12, 13))
    # The same icon half its width off: what a picture of another shape
    # placed there scores.
    d_shift = diff(dx + rw // 2, dy)
    log(f"{a['name']}'s icon ({a['icon']['path']}, {len(data)} bytes) against the window at "
        f"{ext.x + dx},{ext.y + dy}: {d:.1f} per channel (shifted {rw // 2} px: {d_shift:.1f})")
    return d < 12 and d < d_shift / 3


# --- the test ----------------------------------------------------------------------


def entries(prog):
    """The desktop entries in XDG_DATA_HOME for the guest's program @prog."""
    folder = os.path.join(tm.env["XDG_DATA_HOME"], "applications")
    out = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        kf = GLib.KeyFile()
        try:
            kf.load_from_file(os.path.join(folder, name), GLib.KeyFileFlags.NONE)
            if kf.get_string("Desktop Entry", "X-Vmdesk-Program") == prog:
                out.append(os.path.join(folder, name))
        except GLib.Error:
            continue
    return out


def menu(app, a):
    """Add to menu: the entry (Exec: this vmdesk's app on VM, the program)
    and its icons; Remove from menu: gone again."""
    click(app, f"Add {a['name']} to the menu", within=PAGE)
    path = wait_for(f"{a['name']}'s desktop entry", lambda: entries(a["program"]), 20)[0]
    kf = GLib.KeyFile()
    kf.load_from_file(path, GLib.KeyFileFlags.NONE)
    exec_line = kf.get_string("Desktop Entry", "Exec")
    log(f"{os.path.basename(path)}: Exec={exec_line}")
    words = shlex.split(exec_line)
    if os.path.realpath(words[0]) != os.path.realpath(tm.VMDESK) or words[1] != "app" or \
            VM not in words or a["program"] not in words or \
            words.index(a["program"]) != words.index(VM) + 1:
        fail(f"the entry does not run `{tm.VMDESK} app ... {VM} {a['program']}`: {exec_line}")
    entry_id = os.path.basename(path)[:-len(".desktop")]
    icon = os.path.join(tm.env["XDG_DATA_HOME"], "icons", "hicolor", "48x48", "apps",
                        f"{entry_id}.png")
    if not os.path.exists(icon):
        fail(f"no icon {icon}")
    if kf.get_string("Desktop Entry", "Icon") != entry_id:
        fail("the entry does not name its icon")
    with open(path, "rb") as f, open(os.environ["VMDESK_MANAGER_ENTRY_COPY"], "wb") as out:
        out.write(f.read())
    wait_for("the button to say Remove",
             lambda: tm.find(app, pyatspi.ROLE_PUSH_BUTTON, f"Remove {a['name']} from the menu"), 10)
    if os.environ.get("VMDESK_MANAGER_APPS_SCREENSHOT"):
        time.sleep(0.5)  # drawn
        page_window_png(os.environ["VMDESK_MANAGER_APPS_SCREENSHOT"])
    click(app, f"Remove {a['name']} from the menu", within=PAGE)
    wait_for("the entry to go", lambda: not entries(a["program"]), 20)
    wait_for("the button to say Add again",
             lambda: tm.find(app, pyatspi.ROLE_PUSH_BUTTON, f"Add {a['name']} to the menu"), 10)
    if os.path.exists(icon):
        fail(f"{icon} stayed")
    log("added to the menu and removed")


def our_app_processes():
    """`vmdesk app` processes the manager started (they carry our root)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if tm.root.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1] == b"app":
            out.append(int(pid))
    return out


def app_windows():
    """The X windows of `vmdesk app` on VM: (id, title) of each titled TITLE
    or TITLE followed by " — " and what the window says (the VM's state, the
    protocol, a status; ui/window.c). xwininfo prints UTF-8 titles only in a
    UTF-8 locale (in C: "failure in conversion"), hence C.UTF-8."""
    tree = subprocess.run(["xwininfo", "-root", "-tree"], env=dict(tm.env, LC_ALL="C.UTF-8"),
                          capture_output=True, text=True).stdout
    out = []
    for ln in tree.splitlines():
        ln = ln.strip()
        i = ln.find(f'"{TITLE}')
        if i < 0:
            continue
        title = ln[i + 1:ln.find('"', i + 1)]
        if title == TITLE or title.startswith(f"{TITLE} — "):
            out.append((ln.split()[0], title))
    return out


def window_pid(win):
    out = subprocess.run(["xprop", "-id", win, "_NET_WM_PID"], env=tm.env, capture_output=True,
                         text=True).stdout
    return int(out.split("=")[1]) if "=" in out else None


def white_share(win):
    """The share of white pixels in the X window @win (xterm's background)."""
    path = os.path.join(tm.root, "launched.png")
    if subprocess.run(["import", "-silent", "-window", win, path], env=tm.env,
                      capture_output=True).returncode != 0:
        return 0.0
    w, h, n, r, px = tm.pixels(GdkPixbuf.Pixbuf.new_from_file(path))
    white = sum(1 for y in range(0, h, 4) for x in range(0, w, 4)
                if px[y * r + x * n:y * r + x * n + 3] == b"\xff\xff\xff")
    return white / (((h + 3) // 4) * ((w + 3) // 4))


def launch(app, a, user):
    """Launch: the program's window (the manager's `vmdesk app` child's, on
    RDP, showing xterm's white), the program in the guest; it ends in the
    guest, and the window goes with no error."""
    t0 = time.monotonic()
    click(app, f"Launch {a['name']}", within=PAGE)
    first = wait_for("the program window", app_windows, 60)[0]
    log(f"window {first[0]} \"{first[1]}\" {time.monotonic() - t0:.1f} s after Launch")
    owner = window_pid(first[0])
    if owner not in our_app_processes():
        fail(f"the window's pid {owner} is no vmdesk app of the manager's "
             f"({our_app_processes()})")

    def showing_xterm():
        on_rdp = [w for w in app_windows() if " — RDP" in w[1]]
        return on_rdp if on_rdp and white_share(on_rdp[0][0]) > 0.05 else None
    win, title = wait_for("xterm's picture in the window, over RDP", showing_xterm, 120)[0]
    log(f"\"{title}\" shows xterm ({white_share(win):.0%} white) "
        f"{time.monotonic() - t0:.1f} s after Launch")
    shot = os.environ.get("VMDESK_MANAGER_LAUNCH_SCREENSHOT")
    if shot:
        subprocess.run(["import", "-window", win, shot], env=tm.env, check=True)
    match = ["/usr/bin/pgrep", "-u", user, "-f", f"^{a['program']}$"]

    def in_guest():
        code, out = guest_run(match)
        return out.split() if code == 0 else None
    pids = wait_for(f"{a['program']} to run in the guest as {user}", in_guest, 120)
    log(f"{a['program']} runs in the guest as {user} (pid {' '.join(pids)}), "
        f"{time.monotonic() - t0:.1f} s after Launch")
    guest_run(["/usr/bin/pkill", "-u", user, "-f", f"^{a['program']}$"])
    wait_for("the program window to go", lambda: not app_windows(), 60)
    wait_for("vmdesk app to end", lambda: not our_app_processes(), 30)
    time.sleep(1)  # the page hears the end of its process
    title = f"{a['name']} ended with an error"
    if tm.window(app, title):
        fail(f"the page shows '{title}': {tp.labels_with(app, '', within=title)}")
    log("the program ended in the guest: its window went, no error")


def main():
    with open(os.environ["VMDESK_MANAGER_APPS_JSON"]) as f:
        listed = json.load(f)["apps"]
    xterm = [a for a in listed if a["program"] == "/usr/bin/xterm"]
    if not xterm or not xterm[0].get("icon"):
        fail(f"the CLI's listing has no xterm with an icon: {listed}")
    xterm = xterm[0]
    user = guest_user()
    tm.start_x()
    t0 = time.monotonic()
    mgr = subprocess.Popen([tm.MANAGER], env=tm.env)
    tm.children.append(mgr)
    app = wait_for("the manager on the accessibility bus", tm.find_app, 60)
    tm.wait_state(app, VM, "Running", 30)
    click(app, f"Details {VM}")
    wait_for("the page", lambda: tm.window(app, PAGE), 20)
    tp.tab(app, "Programs", PAGE)
    t1 = time.monotonic()
    click(app, "Ask the guest", within=PAGE)

    def all_listed():
        shown = labels(app)
        return all(a["name"] in shown and a["program"] in shown and
                   tm.find(app, pyatspi.ROLE_PUSH_BUTTON, f"Launch {a['name']}")
                   for a in listed)
    wait_for("every program of the guest in the Programs tab", all_listed, 120)
    log(f"{len(listed)} programs listed {time.monotonic() - t1:.1f} s after Ask "
        f"({time.monotonic() - t0:.1f} s after the manager started): "
        f"{', '.join(a['name'] for a in listed)}")
    shot = os.path.join(tm.root, "programs.png")
    # The rows' pictures are drawn a moment after they are made.
    wait_for("xterm's icon drawn", lambda: page_window_png(shot) or icon_drawn(app, xterm, shot),
             20)

    menu(app, xterm)
    launch(app, xterm, user)
    log(f"PASS ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    tm.run(main, "manager-apps-failure.png")
