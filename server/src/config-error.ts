/**
 * A configuration the server refuses to start with (production without the operator's PKI or portal,
 * development mode on a public address, ...). Carries a code; the CLI prints `sidian: CODE: message`
 * (zh-CN and English) and exits 1 without a stack trace.
 */
export class ConfigError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
