/** Cases (联办) against SQLite (a file in a temp data directory). */
import { describe } from 'vitest';
import { defineCasesSuite } from './test/cases-suite';

describe('cases on SQLite', { timeout: 120_000 }, () => {
  defineCasesSuite({ newDatabaseUrl: async () => undefined });
});
