/** The server suite against SQLite (a file in a temp data directory). */
import { describe } from 'vitest';
import { defineServerSuite } from './test/suite';

describe('server on SQLite', () => {
  defineServerSuite({ newDatabaseUrl: async () => undefined });
});
