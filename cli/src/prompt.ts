/** Read a secret from the terminal without echoing it. */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export async function promptSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY)
    throw new Error('no terminal to ask for a password: use --password-file FILE (- reads standard input)');
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    rl.close();
    process.stdout.write('\n');
  }
}
