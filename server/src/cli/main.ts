/**
 * The `sidian` command line (DESIGN.md "Interfaces"): sign, verify, serve, dev-pki, audit.
 * Errors print one line `sidian: CODE: message` on stderr; no stack traces for expected failures.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isSidianError } from '@sidian/core';
import { signCommand } from './sign';

const USAGE = `usage:
  sidian sign IN.pdf -o OUT.pdf --p12 FILE --password PW [--image PNG|JPG] [--page N] [--rect x,y,w,h]
              [--mode single|every-page|seam] [--reason T] [--location T] [--field NAME] [--tsa URL] [--certify 1|2|3]
  sidian verify FILE.pdf... [--trust PEM]... [--crl FILE]... [--ocsp FILE]... [--at ISO-8601] [--json]
  sidian extend IN.pdf -o OUT.pdf --ltv [--tsa URL] [--trust PEM]... [--crl FILE]... [--ocsp FILE]... [--offline]
  sidian serve [--port 8080] [--data ./data]
  sidian renew-timestamps [--data ./data] [--within-days 90] [--json]
  sidian dev-pki --out DIR
  sidian audit verify [--data ./data]`;

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'sign':
        return await signCommand(rest);
      case 'verify': {
        const { verifyCommand } = await import('./verify');
        return await verifyCommand(rest);
      }
      case 'extend': {
        const { extendCommand } = await import('./extend');
        return await extendCommand(rest);
      }
      case 'renew-timestamps': {
        const { renewCommand } = await import('./renew');
        return await renewCommand(rest);
      }
      case 'serve': {
        const { serveCommand } = await import('./serve');
        return await serveCommand(rest);
      }
      case 'dev-pki': {
        const { devPkiCommand } = await import('./dev-pki');
        return await devPkiCommand(rest);
      }
      case 'audit': {
        const { auditCommand } = await import('./audit');
        return await auditCommand(rest);
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sidian: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    if (isSidianError(e)) {
      process.stderr.write(`sidian: ${e.code}: ${e.message}\n`);
      return command === 'verify' ? 4 : 1;
    }
    const sys = e as { code?: unknown; message?: string };
    if (typeof sys?.code === 'string' && sys.message) {
      // file system errors and the like
      process.stderr.write(`sidian: ${sys.code}: ${sys.message}\n`);
      return command === 'verify' ? 4 : 1;
    }
    process.stderr.write(`sidian: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    return 70;
  }
}

/** parseArgs with our usage errors. */
export function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
