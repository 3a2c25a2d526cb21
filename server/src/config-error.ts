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
    // The CLI prints any error named SidianError that carries a string code as one line
    // `sidian: CODE: message` with exit 1 (cli/main.ts matches by name, as the built CLI bundle has
    // its own copy of core's class); a configuration error is reported the same way.
    this.name = 'SidianError';
  }
}
