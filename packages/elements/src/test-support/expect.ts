/** A tiny `expect` for the browser tests (mocha in @web/test-runner has none). */
export function expect<T>(actual: T) {
  const fail = (msg: string) => {
    throw new Error(msg);
  };
  const show = (v: unknown) => {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  };
  return {
    /** The negations that the tests use. */
    not: {
      toContain(part: unknown) {
        const has =
          typeof actual === 'string'
            ? actual.includes(part as string)
            : Array.isArray(actual) && actual.includes(part);
        if (has) fail(`expected ${show(actual)} not to contain ${show(part)}`);
      },
      toMatch(re: RegExp) {
        if (re.test(String(actual))) fail(`expected ${show(actual)} not to match ${re}`);
      },
    },
    toBe(expected: T) {
      if (!Object.is(actual, expected)) fail(`expected ${show(actual)} to be ${show(expected)}`);
    },
    toEqual(expected: unknown) {
      if (show(actual) !== show(expected)) fail(`expected ${show(actual)} to equal ${show(expected)}`);
    },
    toBeTruthy() {
      if (!actual) fail(`expected ${show(actual)} to be truthy`);
    },
    toBeFalsy() {
      if (actual) fail(`expected ${show(actual)} to be falsy`);
    },
    toContain(part: unknown) {
      const ok = typeof actual === 'string' ? actual.includes(part as string) : Array.isArray(actual) && actual.includes(part);
      if (!ok) fail(`expected ${show(actual)} to contain ${show(part)}`);
    },
    toMatch(re: RegExp) {
      if (!re.test(String(actual))) fail(`expected ${show(actual)} to match ${re}`);
    },
    toBeGreaterThan(n: number) {
      if (!((actual as number) > n)) fail(`expected ${show(actual)} > ${n}`);
    },
    toBeLessThan(n: number) {
      if (!((actual as number) < n)) fail(`expected ${show(actual)} < ${n}`);
    },
    toBeCloseTo(n: number, tolerance = 0.01) {
      if (!(Math.abs((actual as number) - n) <= tolerance)) fail(`expected ${show(actual)} ≈ ${n} (±${tolerance})`);
    },
  };
}

/** Awaits `p` and returns what it rejected with (fails if it resolved). */
export async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}
