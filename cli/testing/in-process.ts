/**
 * A CLI command run inside the test process: what it wrote to standard output and the exit code it
 * set, with process.exitCode left as it was found (unset) for the test runner.
 */
export async function runInProcess(
  command: () => Promise<void>,
): Promise<{ text: string; code: typeof process.exitCode }> {
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.exitCode = undefined;
  try {
    await command();
  } finally {
    process.stdout.write = write;
  }
  const code = process.exitCode;
  process.exitCode = undefined;
  return { text: out.join(''), code };
}
