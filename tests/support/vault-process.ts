// The vault as its own OS process (services/vault/src/main.ts under tsx), so a test can SIGKILL it
// the way a host or container dies: no close(), no ack, no transaction commit.
import { startListening } from './service-process.ts';
import { HOST, type Infra } from './stack.ts';

export interface VaultProcess {
  readonly pid: number;
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** The vault as its own process, as a deployment runs it; its output goes to `infra.capture(name)`. */
export function startVaultProcess(infra: Infra, name: string): Promise<VaultProcess> {
  return startListening({
    name,
    entry: 'services/vault/src/main.ts',
    env: (port) => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: infra.runtimeUrl,
        NATS_URL: infra.nats.url,
        NATS_USER: 'vault',
        NATS_PASSWORD: infra.passwords.vault,
        HOST,
        PORT: String(port),
      };
      delete env.COFFER_BUS_NAMESPACE;
      return env;
    },
    output: () => infra.capture(name).lines,
    path: '/readyz',
    // As for the planes (service-process.ts): tsx compiles the vault first, which takes well
    // over 30 s on a loaded machine (a vault start timed out at 30 s here, under load).
    timeoutMs: 90_000,
  });
}
