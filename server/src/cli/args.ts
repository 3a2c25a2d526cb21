/**
 * Argument parsing, usage errors and messages shared by the `sidian` subcommands. Kept apart from
 * main.ts so that the subcommands and the dispatcher do not import each other, and so that this
 * module imports nothing heavy (every start of the CLI loads it).
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  // matched by name too: serve, dev-pki and audit run from the TypeScript sources and throw their own copy
  override name = 'UsageError';
}

/** parseArgs with our usage errors (messages in zh-CN and English). */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    const m = /^Unknown option '([^']+)'/.exec((e as Error).message);
    if (m) throw new UsageError(`未知选项 unknown option ${m[1]}`);
    const v = /^Option '([^']+)' argument missing/.exec((e as Error).message);
    if (v) throw new UsageError(`选项缺少取值 option ${v[1].replace(/^-\w, /, '')} needs a value`);
    throw new UsageError((e as Error).message);
  }
}

/**
 * A file system error in words (zh-CN and English) instead of `ENOENT: no such file or directory,
 * open 'x'`; undefined for anything that is not one.
 */
export function describeFileError(e: unknown): string | undefined {
  const err = e as { code?: unknown; path?: unknown; syscall?: unknown };
  if (typeof err?.code !== 'string') return undefined;
  const file = typeof err.path === 'string' ? err.path : '';
  switch (err.code) {
    case 'ENOENT':
      return err.syscall === 'open' || err.syscall === 'stat' || err.syscall === 'copyfile' || !err.syscall
        ? `文件不存在 file not found: ${file}`
        : `路径不存在 no such file or folder: ${file}`;
    case 'EACCES':
    case 'EPERM':
      return `没有权限 permission denied: ${file}`;
    case 'EISDIR':
      return `这是一个文件夹，不是文件 is a folder, not a file: ${file}`;
    case 'ENOTDIR':
      return `路径中有一部分不是文件夹 a part of the path is not a folder: ${file}`;
    case 'ENOSPC':
      return `磁盘已满 no space left on the disk${file ? `: ${file}` : ''}`;
    case 'EEXIST':
      return `已存在 already exists: ${file}`;
    default:
      return undefined;
  }
}

/**
 * The PKCS#12 password, from (in this order) `--password-file F`, `--password PW` (visible in `ps`:
 * kept for scripts that already use it), the environment variable SIDIAN_P12_PASSWORD, or a prompt
 * on the terminal when there is one. Without any of them: undefined (the file may have no password).
 */
export async function readPassword(values: {
  password?: string;
  'password-file'?: string;
}): Promise<string | undefined> {
  if (values['password-file'] !== undefined && values.password !== undefined)
    throw new UsageError(
      '--password 与 --password-file 只能给一个 give --password or --password-file, not both',
    );
  if (values['password-file'] !== undefined) {
    // one line: a trailing line end (as `echo pw > file` writes it) is not part of the password
    return readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '');
  }
  if (values.password !== undefined) return values.password;
  const env = process.env.SIDIAN_P12_PASSWORD;
  if (env !== undefined) return env;
  if (process.stdin.isTTY && process.stderr.isTTY) return promptHidden('PKCS#12 密码 password: ');
  return undefined;
}

/** Reads one line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // raw mode (no echo) before the question: whatever is typed after seeing it is never echoed
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let line = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            resolve(line);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            reject(new UsageError('已取消 cancelled'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
          else line += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
