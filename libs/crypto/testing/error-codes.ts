/** For this package's tests: the named code a call fails with, or undefined when it does not fail. */
import { CryptoError, type CryptoErrorCode } from '../src/errors.ts';

export function codeOf(run: () => unknown): CryptoErrorCode | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof CryptoError) return err.code;
    throw err;
  }
  return undefined;
}

export async function failureOf(
  run: () => Promise<unknown>,
): Promise<{ code: CryptoErrorCode; message: string } | undefined> {
  try {
    await run();
  } catch (err) {
    if (err instanceof CryptoError) return { code: err.code, message: err.message };
    throw err;
  }
  return undefined;
}
