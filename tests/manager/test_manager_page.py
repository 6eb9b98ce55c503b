#!/usr/bin/python3
"""vmdesk-manager's VM page end to end: the real GTK 4 program on an Xvfb,
driven through AT-SPI (pyatspi) inside dbus-run-session, against real QEMU
running the test guest in a private vmdesk home (test_manager.py's world and
helpers).

Covers, on the page opened from a VM's card: memory and processors changed
and `vmdesk show` agreeing; a bad memory value and one beyond this host's
range shown as errors with nothing changed; the performance mode (Turbo,
Power saving) and extra QEMU arguments saved, arguments that do not parse or
an empty one shown as errors with vm.conf unchanged; a shared folder added read-only
and removed; on the running test guest a snapshot saved (with the VM's
memory), the guest then overwriting its disk's first sector, the snapshot
restored after the warning (the guest reads its old sector again: memory and
disk went back) and deleted, a name it cannot take said in the page's words; a CD image inserted into and ejected from the
running VM (QEMU's drive says so) and a file that is no CD image refused; the
serial log shown; a pinned RDP certificate shown and forgotten after its
warning (the pin file and `vmdesk certificate` agree), an unreadable pin file
shown as such (its words escaped); the VM's RDP account (DOMAIN\\user and a
password) saved from Settings as `vmdesk credentials` stores it (the 0600
file, `--show`, the password entry emptied; an empty password refused) and
forgotten after its warning; the Programs tab's "Ask the guest" on the stopped VM (an
error in the window's words, not the command line's); the Guest Tools line
and "Ask the guest" on a guest without an agent (the test guest's case: said so, a
readable error, no empty list made up); the overlay policy changed and the overlay discarded after
its warning on a second VM, then changes (written by qemu-io) committed into
its base with the page's Commit, leaving the overlay empty.

Environment as test_manager.py; with VMDESK_MANAGER_PAGE_SCREENSHOT=PATH a
picture of the page (its storage tab on the running VM) is saved there."""

import os
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_manager as tm  # noqa: E402  (its private world: root, env, Xvfb)
import pyatspi  # noqa: E402

log, fail, wait_for, click, set_text = tm.log, tm.fail, tm.wait_for, tm.click, tm.set_text
GUEST = tm.GUEST
PAGE = "Details of pg"


def labels_with(app, text, within=None):
    """The labels with @text (in the window titled @within when given)."""
    top = tm.window(app, within) if within else app
    return [n.name for n in tm.find_all(top, lambda n: n.getRole() == pyatspi.ROLE_LABEL and
                                        text in n.name)] if top else []


def expect_error(app, title, needle):
    """The error dialog @title shows a message with @needle; closed."""
    msg = wait_for(f"the error '{title}'", lambda: labels_with(app, needle, within=title),
                   30)[0]
    log(f"error shown: {msg}")
    click(app, "Close", within=title)
    wait_for("the error dialog to close", lambda: not tm.window(app, title), 10)
    return msg


def tab(app, name, page=PAGE):
    """Show the tab @name (a button of the view switcher) of the page titled @page."""
    def button():
        top = tm.window(app, page)
        hits = [n for n in tm.find_all(top, lambda n: n.name == name and n.getRole() in (
            pyatspi.ROLE_TOGGLE_BUTTON, pyatspi.ROLE_RADIO_BUTTON, pyatspi.ROLE_PUSH_BUTTON,
            pyatspi.ROLE_PAGE_TAB)) if tm.showing(n)]
        return hits[0] if hits else None
    b = wait_for(f"the tab '{name}'", button, 20)
    b.queryAction().doAction(0)
    log(f"tab '{name}'")


def guest_shell(name, command, done, timeout=60):
    """Run @command in the test guest's shell on its serial console (as the
    storage tests do); what the console printed up to @done."""
    sock = os.path.join(tm.env["XDG_RUNTIME_DIR"], "vmdesk", name, "serial.sock")
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.settimeout(0.2)
    s.sendall(f"\n{command}\n".encode())
    got = b""
    deadline = time.monotonic() + timeout * tm.SCALE
    try:
        while done.encode() not in got:
            if time.monotonic() > deadline:
                fail(f"the guest did not print {done}: {got[-400:]!r}")
            try:
                chunk = s.recv(4096)
            except socket.timeout:
                continue
            if not chunk:
                fail("the guest's console closed")
            got += chunk
    finally:
        s.close()
    return got.decode(errors="replace")


def entry_text(app, name):
    """The text in the entry row @name."""
    for n in tm.find_all(app, lambda n: n.getRole() == pyatspi.ROLE_TEXT and n.name == name):
        t = n.queryText()
        return t.getText(0, t.characterCount)
    return None


def config(name):
    return tm.show(name)["config"]


def settings(app):
    """Memory and processors through the page; bad values change nothing."""
    def memory_shown():
        got = entry_text(app, "Memory")
        log(f"Memory shows {got!r}")
        return got and got.startswith("256")
    wait_for("the page to show the VM's memory", memory_shown, 20)
    set_text(app, "Memory", "384M")
    set_text(app, "Processors", "2")
    click(app, "Apply settings")
    wait_for("vmdesk show to have the new memory and processors",
             lambda: config("pg")["memory-bytes"] == 384 << 20 and config("pg")["cpus"] == 2, 20)
    log("vmdesk show: 384M, 2 CPUs")
    with open(os.path.join(tm.env["XDG_DATA_HOME"], "vmdesk", "vms", "pg", "vm.conf")) as f:
        before = f.read()
    set_text(app, "Memory", "lots")
    set_text(app, "Processors", "1")
    click(app, "Apply settings")
    expect_error(app, "Could not save the settings", "Memory: ")
    set_text(app, "Memory", "100000G")
    click(app, "Apply settings")
    expect_error(app, "Could not save the settings", "more than this host")
    with open(os.path.join(tm.env["XDG_DATA_HOME"], "vmdesk", "vms", "pg", "vm.conf")) as f:
        if f.read() != before:
            fail("a refused setting changed the config")
    c = config("pg")
    if c["memory-bytes"] != 384 << 20 or c["cpus"] != 2:
        fail(f"a refused setting changed the VM: {c}")
    # The page shows what is again.
    wait_for("the page to show the saved memory",
             lambda: (entry_text(app, "Memory") or "").startswith("384"), 10)


def choose(app, name):
    """Press the toggle button @name (GTK 4.8 shows it as a push button,
    PRESSED when chosen)."""
    click(app, name)
    wait_for(f"'{name}' chosen", lambda: [
        n for n in tm.find_all(app, lambda n: n.name == name and
                               n.getRole() == pyatspi.ROLE_PUSH_BUTTON)
        if tm.showing(n) and n.getState().contains(pyatspi.STATE_PRESSED)], 10)


def performance_and_qemu_args(app):
    """The performance mode and the extra QEMU arguments through the page,
    `vmdesk show` agreeing; arguments that cannot be parsed, or an empty
    one, shown as errors with vm.conf unchanged; then back to how they were
    (the VM boots later in this test)."""
    conf = os.path.join(tm.env["XDG_DATA_HOME"], "vmdesk", "vms", "pg", "vm.conf")
    for button, mode in (("Turbo", "turbo"), ("Power saving", "powersave")):
        choose(app, button)
        click(app, "Apply settings")
        wait_for(f"performance {mode} in vmdesk show",
                 lambda: config("pg")["performance"] == mode, 20)
        log(f"vmdesk show: performance {mode}")
    args = "-smbios 'type=1,product=vmdesk page'"
    set_text(app, "Extra QEMU arguments", args)
    click(app, "Apply settings")
    want = ["-smbios", "type=1,product=vmdesk page"]
    wait_for("the arguments in vmdesk show", lambda: config("pg")["qemu-args"] == want, 20)
    log(f"vmdesk show: qemu-args {want}")
    # The page shows them again (quoted), as they were saved.
    wait_for("the page to show the saved arguments",
             lambda: shlex.split(entry_text(app, "Extra QEMU arguments") or "") == want, 10)
    with open(conf) as f:
        before = f.read()
    set_text(app, "Extra QEMU arguments", "-smbios 'type=1")
    click(app, "Apply settings")
    expect_error(app, "Could not save the settings", "Extra QEMU arguments")
    set_text(app, "Extra QEMU arguments", "-smbios ''")
    click(app, "Apply settings")
    expect_error(app, "Could not save the settings", "empty")
    with open(conf) as f:
        if f.read() != before:
            fail("refused QEMU arguments changed vm.conf")
    if config("pg")["qemu-args"] != want:
        fail(f"refused QEMU arguments changed the VM: {config('pg')['qemu-args']}")
    choose(app, "Standard")
    set_text(app, "Extra QEMU arguments", "")
    click(app, "Apply settings")
    wait_for("standard performance and no arguments in vmdesk show",
             lambda: config("pg")["performance"] == "standard" and not config("pg")["qemu-args"],
             20)


def shares(app):
    folder = os.path.join(tm.root, "shared")
    os.makedirs(folder)
    set_text(app, "Folder to share", folder)
    click(app, "Read-only")
    click(app, "Share the folder")
    got = wait_for("the share in vmdesk show", lambda: config("pg")["shares"], 20)
    log(f"vmdesk show: shares {got}")
    if got[0]["path"] != folder or not got[0]["read-only"]:
        fail(f"the share is not {folder} read-only: {got}")
    click(app, f"Stop sharing {folder}")
    wait_for("the share to go", lambda: not config("pg")["shares"], 20)
    set_text(app, "Folder to share", os.path.join(tm.root, "nothing-here"))
    click(app, "Share the folder")
    expect_error(app, "Could not share the folder", "is not a folder")


def snapshots(app):
    """On the running guest: save, the guest changes its disk, restore (after
    the warning) brings the old sector back in the guest, delete. A name it
    cannot take is said in the page's words (a name, not the CLI's tag)."""
    set_text(app, "New snapshot name", "no good")
    click(app, "Save a snapshot", timeout=60)
    msg = expect_error(app, "Could not save the snapshot", "use 1-48 letters")
    if not msg.startswith('snapshot name "no good"'):
        fail(f"the bad snapshot name is not said in the page's words: {msg}")
    set_text(app, "New snapshot name", "s1")
    click(app, "Save a snapshot", timeout=60)
    wait_for("the snapshot's row", lambda: tm.find(app, pyatspi.ROLE_PUSH_BUTTON, "Restore s1"),
             180)
    snaps = tm.show("pg").get("snapshots", [])
    log(f"vmdesk show: snapshots {snaps}")
    if [s["tag"] for s in snaps] != ["s1"] or not snaps[0]["live"]:
        fail(f"no live snapshot s1: {snaps}")
    guest_shell("pg", "echo CHANGED | dd of=/dev/vda bs=512 count=1 conv=fsync 2>/dev/null; "
                "echo WROTE-$((40+2))", "WROTE-42")
    # (the command's echo has $((1+1)), the answer 2)
    out = guest_shell("pg", "echo READ-$(head -c 7 /dev/vda)-E$((1+1))", "-E2")
    if "READ-CHANGED-E2" not in out:
        fail(f"the guest did not change its disk: {out!r}")
    click(app, "Restore s1")
    body = wait_for("the restore warning", lambda: labels_with(app, "is lost"), 10)[0]
    log(f"warning: {body}")
    click(app, "Restore", within="Restore snapshot s1?")
    wait_for("the restore to finish", lambda: labels_with(app, "Restored snapshot s1"), 180)
    if tm.show("pg")["state"] != "RUNNING":
        fail("the VM does not run after the restore")
    out = guest_shell("pg", "echo READ-$(head -c 2 /dev/vda)-E$((1+1))", "-E2")
    log(f"the guest reads: {[ln for ln in out.splitlines() if 'READ-' in ln][-1]!r}")
    if "READ-S1-E2" not in out:
        fail(f"the restored guest does not read the snapshot's sector: {out!r}")
    if os.environ.get("VMDESK_MANAGER_PAGE_SCREENSHOT"):
        tm.x_screenshot(os.environ["VMDESK_MANAGER_PAGE_SCREENSHOT"])
    click(app, "Delete s1")
    wait_for("the snapshot to go", lambda: not tm.show("pg").get("snapshots"), 120)
    wait_for("its row to go", lambda: not tm.find(app, pyatspi.ROLE_PUSH_BUTTON, "Restore s1"), 20)


def cdrom(app):
    iso = os.path.join(tm.root, "page.iso")
    os.makedirs(os.path.join(tm.root, "pagecd"))
    with open(os.path.join(tm.root, "pagecd", "README"), "w") as f:
        f.write("a CD\n")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", iso,
                    os.path.join(tm.root, "pagecd")], check=True, capture_output=True)
    set_text(app, "CD image (ISO)", iso)
    click(app, "Insert the CD image")
    wait_for("QEMU's drive to hold the image",
             lambda: (tm.show("pg").get("cdrom") or {}).get("medium") == iso, 30)
    log("vmdesk show: the CD is in the running VM's drive")
    click(app, "Eject the CD")
    wait_for("QEMU's drive to be empty",
             lambda: not (tm.show("pg").get("cdrom") or {}).get("medium"), 30)
    if config("pg")["iso"]:
        fail("the config keeps the ejected CD")
    bad = os.path.join(tm.root, "page-bad.iso")
    with open(bad, "wb") as f:
        f.write(os.urandom(64 * 1024))
    set_text(app, "CD image (ISO)", bad)
    click(app, "Insert the CD image")
    expect_error(app, "Could not insert the CD image", "is not a CD image")


def logs(app):
    tab(app, "Logs")
    click(app, "Show serial.log")

    def shown():
        views = [n for n in tm.find_all(app, lambda n: n.name == "Log text")]
        return views and "VMDESK-GUEST-READY" in views[0].queryText().getText(0, -1)
    wait_for("the serial log in the page", shown, 20)
    log("the page shows serial.log")


def programs_stopped(app):
    """Asked while the VM is stopped, the Programs tab says so in the
    window's words (the command line's message names its --start)."""
    tab(app, "Programs")
    click(app, "Ask the guest")
    msg = expect_error(app, "Could not list the programs of pg", "can only be listed")
    if msg != ('VM "pg" is stopped: its programs can only be listed while it runs; start it '
               'first'):
        fail(f"the stopped VM's programs error is not in the window's words: {msg}")
    tab(app, "Storage")


def guest_programs(app):
    """The running test guest has no guest agent (tests/guest/init): the
    Guest Tools line says so, and asking for its programs is a readable
    error naming the agent, with the Programs list left as it was."""
    tab(app, "Settings")
    line = wait_for("the guest tools line", lambda: [
        t for t in labels_with(app, "guest agent") if "answers" in t], 60)[0]
    log(f"guest tools: {line}")
    if not line.startswith("No guest agent answers ("):
        fail(f"the guest tools line does not say the agent is missing: {line}")
    tab(app, "Programs")
    click(app, "Ask the guest")
    title = "Could not list the programs of pg"
    msg = wait_for(f"the error '{title}'", lambda: labels_with(app, "agent", within=title),
                   150)[0]  # GUEST_APPS_TIMEOUT_MS: 120 s
    log(f"programs: {msg}")
    click(app, "Close", within=title)
    wait_for("the error dialog to close", lambda: not tm.window(app, title), 10)
    if labels_with(app, "The guest reports no programs"):
        fail("an agent that never answered was taken for an empty list")


PIN = "AB:" * 31 + "CD"


def certificate(app, vm_dir):
    """The pin written before the manager started is shown, and forgotten
    after the warning, as `vmdesk certificate pg --forget` does."""
    pin_file = os.path.join(vm_dir, "rdp-certificate")
    wait_for("the pinned certificate", lambda: labels_with(app, f"SHA-256 {PIN}", within=PAGE), 20)
    click(app, "Forget the certificate", within=PAGE)
    click(app, "Forget", within="Forget the certificate?")
    wait_for("the forget to finish", lambda: labels_with(app, "Forgot the certificate"), 30)
    wait_for("no pin shown", lambda: labels_with(app, "None yet", within=PAGE), 20)
    with open(pin_file) as f:
        if PIN in f.read():
            fail("the pin is still in " + pin_file)
    shown = tm.vmdesk("certificate", "pg").stdout.strip()
    log(f"vmdesk certificate pg: {shown}")
    if PIN in shown:
        fail("vmdesk certificate still shows the pin")


ACCOUNT_USER = "tester"
ACCOUNT_DOMAIN = "LAB"
ACCOUNT_PASSWORD = "pg's pass: \u00e9t\u00e9 & <b>"


def text_length(app, name):
    """How many characters the showing entry row @name holds (its text child,
    a password's too), without reading them."""
    for row in [n for n in tm.find_all(app, lambda n: n.name == name) if tm.showing(n)]:
        for n in tm.find_all(row, lambda n: n.getRole() in (pyatspi.ROLE_TEXT,
                                                             pyatspi.ROLE_PASSWORD_TEXT)):
            try:
                return n.queryText().characterCount
            except NotImplementedError:
                pass
    return None


def account(app, vm_dir):
    """The RDP account (user and password, for NLA and autologon) stored from
    the Settings tab, as `vmdesk credentials` stores it: shown on the page
    and by `vmdesk credentials pg --show`, the password in the 0600 file (or
    in the secret service, the file then saying only so) and gone from the
    entry; an empty password
    refused in the page's words; then forgotten after the warning. The
    password is never printed."""
    cred_file = os.path.join(vm_dir, "credentials")
    wait_for("no account shown", lambda: "None" in labels_with(app, "None", within=PAGE), 20)
    set_text(app, "User", f"{ACCOUNT_DOMAIN}\\{ACCOUNT_USER}")
    click(app, "Save the account", within=PAGE)
    expect_error(app, "Could not save the account", "password")
    if os.path.exists(cred_file):
        fail("an account without a password was stored")

    set_text(app, "Password", ACCOUNT_PASSWORD, secret=True)
    click(app, "Save the account", within=PAGE)
    wait_for("the save to finish", lambda: labels_with(app, "Stored the account of user"), 30)
    wait_for("the account shown", lambda: labels_with(app, f"User {ACCOUNT_USER}", within=PAGE),
             20)
    if text_length(app, "Password") != 0:
        fail("the password is still in its entry after saving")
    st = os.stat(cred_file)
    if st.st_mode & 0o7777 != 0o600 or os.stat(vm_dir).st_mode & 0o7777 != 0o700:
        fail(f"credentials file mode {st.st_mode & 0o7777:o}, its folder "
             f"{os.stat(vm_dir).st_mode & 0o7777:o}")
    with open(cred_file, encoding="utf-8") as f:
        stored = f.read()
    if f"user={ACCOUNT_USER}\n" not in stored or f"domain={ACCOUNT_DOMAIN}\n" not in stored:
        fail("the user or domain typed is not in the credentials file")
    shown = tm.vmdesk("credentials", "pg", "--show").stdout
    log("vmdesk credentials pg --show: " + shown.replace("\n", " | "))
    # dbus-run-session may activate a secret service that takes the password
    # (then the file only says so) or fails (then the file keeps it).
    if "stored in: the secret service" in shown:
        if ACCOUNT_PASSWORD in stored or "password-in=secret-service\n" not in stored:
            fail("the password went to the secret service but the file does not say only so")
    elif f"password={ACCOUNT_PASSWORD}\n" not in stored:
        # GKeyFile escapes nothing of this password; compared, never printed.
        fail("the password typed is not the one in the credentials file")
    if (f"user: {ACCOUNT_DOMAIN}\\{ACCOUNT_USER}\n" not in shown or
            "password: set\n" not in shown):
        fail("vmdesk credentials does not show the account saved")
    if ACCOUNT_PASSWORD in shown:
        fail("vmdesk credentials --show printed the password")

    click(app, "Forget the account", within=PAGE)
    click(app, "Forget", within="Forget the account?")
    wait_for("the forget to finish", lambda: labels_with(app, "Forgot the account"), 30)
    wait_for("no account shown", lambda: not labels_with(app, f"User {ACCOUNT_USER}",
                                                         within=PAGE), 20)
    if os.path.exists(cred_file):
        fail("the credentials file is still there after Forget")
    shown = tm.vmdesk("credentials", "pg", "--show").stdout
    log("after forget: " + shown.strip())
    if "no stored credentials" not in shown:
        fail("vmdesk credentials still shows an account")


BAD_PIN_LINE = "sha256 <b>not</b> a pin"


def unreadable_pin_written(vm_dir):
    """A pin file GKeyFile cannot read (a connection refuses then); its line
    has markup in it, which GLib's error quotes."""
    with open(os.path.join(vm_dir, "rdp-certificate"), "w") as f:
        f.write(f"[rdp]\n{BAD_PIN_LINE}\n")


def unreadable_pin(app, vm_dir):
    """The page (read again since unreadable_pin_written) says the pin
    cannot be read, not "None yet", with the file's words as they are."""
    got = wait_for("the unreadable pin", lambda: labels_with(app, "Cannot be read", within=PAGE),
                   20)
    log(f"unreadable pin shown: {got[0]}")
    if BAD_PIN_LINE not in got[0]:
        fail(f"the pin file's words are not shown as they are: {got[0]}")
    if labels_with(app, "None yet", within=PAGE):
        fail("the page still says no certificate is pinned")
    os.unlink(os.path.join(vm_dir, "rdp-certificate"))


def overlay(app):
    base = os.path.join(tm.root, "base.raw")
    with open(base, "wb") as f:
        f.write(b"BASE\n".ljust(16 << 20, b"\0"))
    tm.vmdesk("create", "ov", "--os", "other", "--memory", "256M", "--cpus", "1", "--disk", "0",
              "--kernel", os.path.join(GUEST, "vmlinux"), "--initrd",
              os.path.join(GUEST, "initrd.img"), "--base", base, "--overlay")
    tm.wait_state(app, "ov", "Stopped", 20)
    click(app, "Details ov")
    wait_for("ov's page", lambda: tm.window(app, "Details of ov"), 20)
    wait_for("the overlay's status", lambda: labels_with(app, f"On {base}"), 20)
    click(app, "On shutdown: ask", within="Details of ov")
    wait_for("on-shutdown=ask in vmdesk show", lambda: config("ov")["on-shutdown"] == "ask", 20)
    log("vmdesk show: on-shutdown ask")
    click(app, "Discard the changes", within="Details of ov")
    click(app, "Discard", within="Discard the changes?")
    wait_for("the discard to finish", lambda: labels_with(app, "Discarded the changes"), 60)
    if config("ov")["on-shutdown"] != "ask":
        fail("the discard changed the policy")
    overlay_commit(app, base)


def overlay_commit(app, base):
    """The page's Commit on the stopped VM: the overlay, dirtied by qemu-io,
    goes into the base and is empty after."""
    ov = tm.json.loads(tm.vmdesk("overlay", "ov", "status", "--json").stdout)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x4e 0 512", ov["overlay"]],
                   check=True, capture_output=True)
    ov = tm.json.loads(tm.vmdesk("overlay", "ov", "status", "--json").stdout)
    if not ov["changed-bytes"]:
        fail(f"qemu-io's write is not in the overlay: {ov}")
    click(app, "Commit the changes", within="Details of ov")
    wait_for("the commit to finish", lambda: labels_with(app, "Committed the changes"), 60)
    with open(base, "rb") as f:
        if f.read(512) != b"N" * 512:
            fail("the commit did not write the overlay's sector into the base")
    ov = tm.json.loads(tm.vmdesk("overlay", "ov", "status", "--json").stdout)
    log(f"overlay after the page's Commit: changed {ov['changed-bytes']}, pending {ov['pending']}")
    if ov["changed-bytes"]:
        fail(f"the commit left the overlay's data: {ov}")


def main():
    tm.start_x()
    vm_dir = os.path.join(tm.env["XDG_DATA_HOME"], "vmdesk", "vms", "pg")
    tm.vmdesk("create", "pg", "--os", "other", "--memory", "256M", "--cpus", "1", "--disk", "0",
              "--kernel", os.path.join(GUEST, "vmlinux"), "--initrd",
              os.path.join(GUEST, "initrd.img"), "--append",
              "console=tty0 console=ttyS0 vmdesk.disk-mark=S1")
    seed = os.path.join(tm.root, "seed.raw")
    with open(seed, "wb") as f:
        f.write(b"EMPTY\n".ljust(16 << 20, b"\0"))
    tm.vmdesk("disk", "pg", "import", seed)
    pin_file = os.path.join(vm_dir, "rdp-certificate")
    with open(os.open(pin_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        f.write(f"[rdp]\nsha256={PIN}\n")

    t0 = time.monotonic()
    mgr = subprocess.Popen([tm.MANAGER], env=tm.env)
    tm.children.append(mgr)
    app = wait_for("the manager on the accessibility bus", tm.find_app, 60)
    tm.wait_state(app, "pg", "Stopped", 30)
    click(app, "Details pg")
    wait_for("the page", lambda: tm.window(app, PAGE), 20)
    log(f"page open in {time.monotonic() - t0:.1f} s")

    settings(app)
    performance_and_qemu_args(app)
    certificate(app, vm_dir)
    account(app, vm_dir)
    unreadable_pin_written(vm_dir)
    programs_stopped(app)
    tab(app, "Storage")
    shares(app)
    unreadable_pin(app, vm_dir)

    click(app, "Start pg")
    tm.wait_state(app, "pg", "Running", 180)
    wait_for("the guest to be ready", lambda: tm.serial_has("pg", "VMDESK-GUEST-READY"), 180)
    if not tm.serial_has("pg", "VMDESK-DISK-WROTE S1"):
        fail("the guest did not write its disk mark")
    snapshots(app)
    cdrom(app)
    logs(app)
    guest_programs(app)
    click(app, "Force off pg")
    tm.wait_state(app, "pg", "Stopped", 60)
    if not os.path.isdir(vm_dir):
        fail("the VM's folder went")

    overlay(app)
    log("PASS")


if __name__ == "__main__":
    tm.run(main, "manager-page-failure.png")
