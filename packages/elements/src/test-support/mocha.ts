/**
 * Mocha's globals (as @web/test-runner provides them), imported explicitly so the tests type-check
 * without global test-runner types in the repository's tsconfig.
 */
type Done = (err?: unknown) => void;
type TestFn = (this: { timeout(ms: number): void }, done: Done) => unknown;
type SuiteFn = (name: string, fn: () => void) => void;
type TestDecl = (name: string, fn: TestFn) => void;
type HookDecl = (fn: TestFn) => void;

const g = globalThis as unknown as Record<string, unknown>;
export const describe = g.describe as SuiteFn;
export const it = g.it as TestDecl;
export const before = g.before as HookDecl;
export const after = g.after as HookDecl;
export const beforeEach = g.beforeEach as HookDecl;
export const afterEach = g.afterEach as HookDecl;
