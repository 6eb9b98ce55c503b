#!/usr/bin/env python3
"""unit-reference: every command and option of the real program is in the
manual pages and in the bash, zsh and fish completions, and the completions
work: run by bash, fish and an interactive zsh themselves, against a real VM
with a real snapshot.

    test_reference.py VMDESK REFERENCE-DIR

The commands come from `vmdesk --help` and the options from each command's
`--help` (GOption's rendering of the tables the program parses with), read
here independently of tools/gen-reference. Fails on the first kind of gap,
listing every gap of that kind.
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

VMDESK, REF = sys.argv[1], sys.argv[2]
ENV = dict(os.environ, LC_ALL='C.UTF-8')
ENV['PATH'] = os.path.dirname(os.path.abspath(VMDESK)) + os.pathsep + ENV.get('PATH', '')
problems = []


def out(*argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, env=kw.get('env', ENV))
    if r.returncode != 0:
        raise SystemExit(f'{argv} failed ({r.returncode}): {r.stderr}')
    return r.stdout


def check(ok, what):
    if not ok:
        problems.append(what)


def finish(stage):
    if problems:
        print(f'FAIL ({stage}):\n  ' + '\n  '.join(problems))
        sys.exit(1)
    print(f'ok: {stage}')


# The real tables.
top = out(VMDESK, '--help')
commands = re.findall(r'^  ([a-z]+) ', top.split('Commands:')[1].split('\n\n')[0], re.M)
assert len(commands) > 20, commands


def command_options(c):
    text = out(VMDESK, c, '--help')
    app = text.split('Application Options:')[1] if 'Application Options:' in text else ''
    return re.findall(r'^  (?:(-\w), )?(--[\w-]+)(=\S+)?', app, re.M)


with concurrent.futures.ThreadPoolExecutor(8) as pool:
    options = dict(zip(commands, pool.map(command_options, commands)))

# Manual pages.
man = os.path.join(REF, 'man')
main_page = open(os.path.join(man, 'vmdesk.1')).read()
for c in commands:
    check(f'vmdesk {c}' in main_page and f'vmdesk\\-{c}' in main_page,
          f'vmdesk(1) does not list {c}')
    page_path = os.path.join(man, f'vmdesk-{c}.1')
    if not os.path.exists(page_path):
        check(False, f'no manual page vmdesk-{c}(1)')
        continue
    page = open(page_path).read()
    for short, long_, arg in options[c]:
        check(f'\\fB{long_.replace("-", chr(92) + "-")}\\fR' in page,
              f'vmdesk-{c}(1) lacks {long_}')
        if short:
            check(f'\\fB\\-{short[1]}\\fR' in page, f'vmdesk-{c}(1) lacks {short}')
# Every page renders without groff warnings (lintian's check, in one run).
pages = [os.path.join(man, f) for f in sorted(os.listdir(man))]
r = subprocess.run(['man', '--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '-Z', *pages],
                   capture_output=True, text=True, env=dict(ENV, MANWIDTH='80'))
check(r.returncode == 0 and not r.stderr.strip(), f'groff warnings: {r.stderr.strip()}')
finish('manual pages')

# A real VM with a real (offline) snapshot, in private XDG folders.
tmp = tempfile.mkdtemp(prefix='vmdesk-reference-')
ENV.update(XDG_DATA_HOME=f'{tmp}/data', XDG_CONFIG_HOME=f'{tmp}/config',
           XDG_RUNTIME_DIR=f'{tmp}/run', HOME=tmp)
os.makedirs(f'{tmp}/run', mode=0o700)
try:
    out(VMDESK, 'create', 'refvm', '--firmware', 'bios', '--disk', '16M')
    out(VMDESK, 'snapshot', 'refvm', 'save', 'first-tag')
    os.makedirs(f'{tmp}/somedir')
    open(f'{tmp}/somefile.iso', 'w').close()

    # bash: the completion function itself, with the words bash would pass.
    bash_file = os.path.join(REF, 'completions', 'vmdesk.bash')
    harness = (f'source {bash_file}\n'
               'c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));\n'
               '  COMPREPLY=(); _vmdesk 2>/dev/null; printf "%s\\n" "${COMPREPLY[@]}"; echo "@@end"; }\n')
    queries = [['vmdesk', '']] + [['vmdesk', c, '--'] for c in commands]
    specials = {
        'vm': ['vmdesk', 'start', 'ref'],
        'verb': ['vmdesk', 'snapshot', 'refvm', ''],
        'tag': ['vmdesk', 'snapshot', 'refvm', 'restore', ''],
        'tag-after-option': ['vmdesk', 'snapshot', '--force', 'refvm', 'restore', 'fi'],
        'option-value-file': ['vmdesk', 'create', 'x', '--iso', f'{tmp}/somef'],
        'option-eq-file': ['vmdesk', 'create', 'x', '--iso', '=', f'{tmp}/somef'],
        'dir': ['vmdesk', 'share', 'refvm', f'{tmp}/some'],
        'apps-vm': ['vmdesk', 'apps', 'install', 'r'],
    }
    script = harness + ''.join('c ' + ' '.join(f"'{w}'" for w in q) + '\n'
                               for q in queries + list(specials.values()))
    replies = out('bash', '--norc', '--noprofile', '-c', script).split('@@end\n')
    got = {tuple(q): set(r.split()) for q, r in zip(queries + list(specials.values()), replies)}
    for c in commands:
        check(c in got[('vmdesk', '')], f'bash: vmdesk <Tab> does not offer {c}')
        for short, long_, arg in options[c]:
            want = long_ + ('=' if arg else '')
            check(want in got[('vmdesk', c, '--')], f'bash: vmdesk {c} --<Tab> lacks {want}')
    expect = {'vm': 'refvm', 'verb': 'restore', 'tag': 'first-tag', 'tag-after-option': 'first-tag',
              'option-value-file': f'{tmp}/somefile.iso', 'option-eq-file': f'{tmp}/somefile.iso',
              'dir': f'{tmp}/somedir', 'apps-vm': 'refvm'}
    for k, q in specials.items():
        check(expect[k] in got[tuple(q)], f'bash: {" ".join(q)}<Tab> gives {sorted(got[tuple(q)])}, '
              f'not {expect[k]}')
    finish('bash completion')

    # fish: its own `complete -C`.
    fish_file = os.path.join(REF, 'completions', 'vmdesk.fish')
    fq = [f'vmdesk {c} --' for c in commands] + [
        'vmdesk ', 'vmdesk start ref', 'vmdesk snapshot refvm ', 'vmdesk snapshot refvm restore ',
        'vmdesk snapshot --force refvm restore fi']
    fscript = f'source {fish_file}\n' + ''.join(
        f"complete -C '{q}'; echo @@end\n" for q in fq)
    freplies = out('fish', '--no-config', '-c', fscript).split('@@end\n')
    fgot = {q: {line.split('\t')[0] for line in r.split('\n') if line}
            for q, r in zip(fq, freplies)}
    for c in commands:
        check(c in fgot['vmdesk '], f'fish: vmdesk <Tab> does not offer {c}')
        for short, long_, arg in options[c]:
            check(long_ in fgot[f'vmdesk {c} --'], f'fish: vmdesk {c} --<Tab> lacks {long_}')
    for q, want in [('vmdesk start ref', 'refvm'), ('vmdesk snapshot refvm ', 'restore'),
                    ('vmdesk snapshot refvm restore ', 'first-tag'),
                    ('vmdesk snapshot --force refvm restore fi', 'first-tag')]:
        check(want in fgot[q], f'fish: {q}<Tab> gives {sorted(fgot[q])}, not {want}')
    finish('fish completion')

    # zsh: an interactive zsh (zpty) with compinit, typing Tab.
    zsh_file = os.path.join(REF, 'completions', '_vmdesk')
    r = subprocess.run(['zsh', '-n', zsh_file], capture_output=True, text=True)
    check(r.returncode == 0, f'zsh -n {zsh_file}: {r.stderr}')
    harness = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'zsh_complete.zsh')

    def zsh_tab(line):
        o = out('zsh', '-f', harness, os.path.join(REF, 'completions'),
                os.path.dirname(os.path.abspath(VMDESK)), line)
        return re.sub(r'\x1b\[[0-9;?]*[a-zA-Z]', '', o.replace('\r', ''))

    zq = ['vmdesk '] + [f'vmdesk {c} --' for c in commands] + [
        'vmdesk start ref', 'vmdesk snapshot refvm ', 'vmdesk snapshot refvm restore ',
        'vmdesk snapshot --force refvm restore fi', f'vmdesk share refvm {tmp}/some']
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        zgot = dict(zip(zq, pool.map(zsh_tab, zq)))
    for c in commands:
        check(re.search(rf'\b{c}\b', zgot['vmdesk ']), f'zsh: vmdesk <Tab> does not offer {c}')
        for short, long_, arg in options[c]:
            check(long_ in zgot[f'vmdesk {c} --'], f'zsh: vmdesk {c} --<Tab> lacks {long_}')
    for q, want in [('vmdesk start ref', 'refvm'), ('vmdesk snapshot refvm ', 'restore'),
                    ('vmdesk snapshot refvm restore ', 'first-tag'),
                    ('vmdesk snapshot --force refvm restore fi', 'first-tag'),
                    (f'vmdesk share refvm {tmp}/some', f'{tmp}/somedir')]:
        check(want in zgot[q], f'zsh: {q}<Tab> gives {zgot[q]!r}, not {want}')
    finish('zsh completion')
finally:
    subprocess.run([VMDESK, 'delete', 'refvm'], capture_output=True, env=ENV)
    shutil.rmtree(tmp, ignore_errors=True)
