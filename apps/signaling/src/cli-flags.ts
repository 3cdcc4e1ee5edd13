/** Command line of the signaling server (upstream's flags, single or double dash). */
export interface CliFlags {
  config: string;
  version: boolean;
  /** `--check`: run the self-check against the configuration, print it and exit (ours). */
  check: boolean;
}

export function parseCliFlags(argv: readonly string[]): CliFlags {
  const flags: CliFlags = { config: 'server.conf', version: false, check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    if (!arg.startsWith('-')) throw new Error(`unexpected argument: ${arg}`);
    switch (name) {
      case 'config': {
        const value = inline ?? argv[++i];
        if (!value) throw new Error('--config needs a file name');
        flags.config = value;
        break;
      }
      case 'version':
        flags.version = true;
        break;
      case 'check':
        flags.check = true;
        break;
      default:
        throw new Error(`unknown flag: ${arg} (supported: --config FILE, --version, --check)`);
    }
  }
  return flags;
}
