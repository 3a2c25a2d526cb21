/**
 * The `sidian` command as a new user meets it (`node server/bin/sidian.mjs`, the built CLI):
 * help and version exit 0, every option is listed, the PKCS#12 password comes from a file, the
 * environment or a hidden prompt (not only the command line, where `ps` shows it), and mistakes are
 * told in words in zh-CN and English, not as `ENOENT`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../fixtures/paths';
import { makeTempDir, removeDir } from '../helpers/openssl-pki';
import { createTestPki, loadInput, type TestPki } from './generator';

const BIN = path.join(REPO_ROOT, 'server/bin/sidian.mjs');

function sidian(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const env = { ...process.env };
  delete env.SIDIAN_P12_PASSWORD;
  Object.assign(env, opts.env);
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env,
    input: opts.input ?? '',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let pki: TestPki;
let p12File: string;
let input: string;

beforeAll(async () => {
  dir = makeTempDir('sidian-cli-usage-');
  pki = await createTestPki(dir);
  p12File = path.join(dir, 'seal.p12');
  writeFileSync(p12File, pki.p12);
  input = path.join(dir, 'in.pdf');
  writeFileSync(input, loadInput('classic-1.3'));
});
afterAll(() => dir && removeDir(dir));

describe('help and version', () => {
  it('--version and -v print the package version and exit 0', () => {
    const version = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, 'server/package.json'), 'utf8')) as { version: string }
    ).version;
    for (const flag of ['--version', '-v']) {
      const r = sidian([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`sidian ${version}`);
    }
  });

  it('--help lists every command and exits 0; no command at all is a usage error (exit 2)', () => {
    const r = sidian(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['sign', 'verify', 'extend', 'serve', 'renew-timestamps', 'dev-pki', 'audit'])
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(sidian([]).code).toBe(2);
  });

  it.each([
    [
      'sign',
      [
        '--output',
        '--p12',
        '--password-file',
        '--password',
        '--image',
        '--page',
        '--rect',
        '--mode',
        '--reason',
        '--location',
        '--contact',
        '--field',
        '--tsa',
        '--certify',
        'SIDIAN_P12_PASSWORD',
      ],
    ],
    ['verify', ['--trust', '--crl', '--ocsp', '--at', '--time', '--json']],
    ['extend', ['--output', '--ltv', '--tsa', '--trust', '--crl', '--ocsp', '--offline', '--json']],
    ['renew-timestamps', ['--data', '--within-days', '--dev', '--json', 'DATABASE_URL']],
    [
      'serve',
      ['--port', '--data', '--host', '--cors', '--public-url', '--production', '--quiet', 'DATABASE_URL'],
    ],
    ['dev-pki', ['--out', '--password']],
    ['audit', ['--data', '--json', '--anchors', '--tsa-cert', '--out', 'anchor-export']],
  ])('sidian %s --help lists every option and exits 0', (command, options) => {
    const r = sidian([command, '--help']);
    expect(r.code).toBe(0);
    for (const o of options) expect(r.stdout).toContain(o);
  });

  it('an unknown command or option is told in zh-CN and English, with the usage, exit 2', () => {
    const unknown = sidian(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('未知命令 unknown command "frobnicate"');
    const option = sidian(['verify', '--bogus', 'x.pdf']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('未知选项 unknown option --bogus');
    expect(option.stderr).toContain('usage: sidian verify');
  });

  it('usage mistakes in extend (bundled) and renew-timestamps (run from sources) print its usage, exit 2', () => {
    const e = sidian(['extend', input]);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('请用 -o 指定输出文件 extend needs -o OUT.pdf');
    expect(e.stderr).toContain('usage: sidian extend');
    const r = sidian(['renew-timestamps', '--within-days', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--within-days 应为 0 到 3650 天 must be a number of days from 0 to 3650');
    expect(r.stderr).toContain('usage: sidian renew-timestamps');
  });
});

describe('messages in words', () => {
  it('a missing PDF says "file not found" with its name, not ENOENT (verify: exit 4; sign: exit 1, nothing written)', () => {
    const missing = path.join(dir, 'nope.pdf');
    const v = sidian(['verify', missing]);
    expect(v.code).toBe(4);
    expect(v.stderr).toContain(`文件不存在 file not found: ${missing}`);
    expect(v.stderr).not.toContain('ENOENT');
    const out = path.join(dir, 'never.pdf');
    const s = sidian(['sign', missing, '-o', out, '--p12', p12File, '--password', pki.password]);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`文件不存在 file not found: ${missing}`);
    expect(s.stderr).not.toMatch(/ENOENT|\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });

  it('an output in a folder that does not exist, or is a file, names that folder, not the input (exit 2)', () => {
    const aFile = path.join(dir, 'a-file');
    writeFileSync(aFile, 'x');
    for (const folder of [path.join(dir, 'no-such-folder'), aFile]) {
      const s = sidian([
        'sign',
        input,
        '-o',
        path.join(folder, 'out.pdf'),
        '--p12',
        p12File,
        '--password',
        pki.password,
      ]);
      expect(s.code).toBe(2);
      expect(s.stderr).toContain(`输出文件夹不存在 the output folder does not exist: ${folder}`);
      expect(s.stderr).not.toContain(input);
    }
  });

  it('a missing --trust file is a mistake in the command (exit 2), not an unreadable PDF', () => {
    const r = sidian(['verify', input, '--trust', path.join(dir, 'no-ca.pem')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--trust: 文件不存在 file not found');
  });
});

describe('the PKCS#12 password without putting it on the command line', () => {
  const signs = (out: string, r: ReturnType<typeof sidian>) => {
    expect(r.stderr).not.toContain('sidian: ');
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  };

  it('from --password-file (its line end is not part of the password)', () => {
    const pw = path.join(dir, 'pw.txt');
    writeFileSync(pw, `${pki.password}\n`);
    const out = path.join(dir, 'pw-file.pdf');
    signs(out, sidian(['sign', input, '-o', out, '--p12', p12File, '--password-file', pw]));
  });

  it('from SIDIAN_P12_PASSWORD', () => {
    const out = path.join(dir, 'pw-env.pdf');
    signs(
      out,
      sidian(['sign', input, '-o', out, '--p12', p12File], { env: { SIDIAN_P12_PASSWORD: pki.password } }),
    );
  });

  it('a wrong password from the environment is refused; none at all (no terminal) says how to give one', () => {
    const out = path.join(dir, 'pw-wrong.pdf');
    const wrong = sidian(['sign', input, '-o', out, '--p12', p12File], {
      env: { SIDIAN_P12_PASSWORD: 'not-it' },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('P12_BAD_PASSWORD');
    const none = sidian(['sign', input, '-o', out, '--p12', p12File]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('需要密码 needs a password');
    expect(none.stderr).toContain('--password-file');
    expect(existsSync(out)).toBe(false);
  });

  it('from a prompt on a terminal, not echoed', () => {
    const out = path.join(dir, 'pw-prompt.pdf');
    // a real pseudo-terminal: python's pty runs the command and types the password at the prompt
    const script = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf = b''
deadline = time.time() + 100
while b'password: ' not in buf and time.time() < deadline:
    buf += os.read(fd, 1024)
os.write(fd, sys.stdin.buffer.read() + b'\\r')
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(buf)
sys.exit(os.waitstatus_to_exitcode(status))
`;
    const env = { ...process.env };
    delete env.SIDIAN_P12_PASSWORD;
    const r = spawnSync(
      'python3',
      ['-c', script, process.execPath, BIN, 'sign', input, '-o', out, '--p12', p12File],
      {
        input: pki.password,
        encoding: 'utf8',
        env,
        timeout: 120_000,
      },
    );
    expect(r.stdout).toContain('PKCS#12 密码 password: ');
    expect(r.stdout).not.toContain(pki.password);
    expect(r.status).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
