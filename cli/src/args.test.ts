import { describe, expect, it } from 'vitest';
import { joinDashValues, parseArgs } from './args.ts';

const options = { 'trust-root': { type: 'string' }, once: { type: 'boolean' }, ingest: { type: 'string' } } as const;

describe('parseArgs for commands', () => {
  it('takes a base64url value that starts with a dash (node refuses it as ambiguous)', () => {
    const { values } = parseArgs({ args: ['--trust-root', '-Ab_c', '--once'], options });
    expect(values).toEqual({ 'trust-root': '-Ab_c', once: true });
  });

  it('still refuses a flag whose value was forgotten rather than swallowing the next flag', () => {
    expect(() => parseArgs({ args: ['--trust-root', '--ingest', 'http://x'], options })).toThrow(
      /argument missing|ambiguous/,
    );
  });

  it('leaves boolean flags, joined values and everything after -- alone', () => {
    expect(joinDashValues(['--once', '-x', '--ingest=-y', '--', '--trust-root', '-z'], options)).toEqual([
      '--once',
      '-x',
      '--ingest=-y',
      '--',
      '--trust-root',
      '-z',
    ]);
  });
});
