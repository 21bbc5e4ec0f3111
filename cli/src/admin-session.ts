/**
 * A key-admin's signed-in session on the admin plane, for the CLI commands that act through it
 * (`coffer reseal`, `coffer suite`): sign in with the password (and a TOTP code where MFA is
 * required), make CSRF-carrying POSTs, and sign out whatever happens.
 */
import { readFileSync } from 'node:fs';
import { promptSecret } from './prompt.ts';

export interface AdminSignIn {
  readonly adminUrl: string;
  readonly email: string;
  readonly password: string;
  readonly totp?: string;
}

/** The flags of a command that signs in as a key-admin, for its `parseArgs` options. */
export const adminSignInOptions = {
  'admin-url': { type: 'string' },
  email: { type: 'string' },
  'password-file': { type: 'string' },
  totp: { type: 'string' },
} as const;

/**
 * The sign-in those flags name (the command has checked --admin-url and --email): the password
 * from --password-file without its final newline, else typed at the terminal.
 */
export async function adminSignIn(values: {
  'admin-url': string;
  email: string;
  'password-file'?: string | undefined;
  totp?: string | undefined;
}): Promise<AdminSignIn> {
  const password = values['password-file']
    ? readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '')
    : await promptSecret('Key-admin password: ');
  return {
    adminUrl: values['admin-url'],
    email: values.email,
    password,
    ...(values.totp ? { totp: values.totp } : {}),
  };
}

/** POST a JSON body; a reply of 300 or more is an Error naming the path, status and problem. */
export type AdminPost = <T>(path: string, body?: unknown) => Promise<T>;

export async function withAdminSession<R>(o: AdminSignIn, work: (post: AdminPost) => Promise<R>): Promise<R> {
  const base = o.adminUrl.replace(/\/$/, '');
  const signin = await fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: o.email, password: o.password, ...(o.totp ? { totp: o.totp } : {}) }),
  });
  if (signin.status !== 200) throw new Error(`sign-in refused: ${signin.status} ${await signin.text()}`);
  const cookie = (signin.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrf } = (await signin.json()) as { csrf: string };
  const post: AdminPost = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        cookie,
        'x-coffer-csrf': csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  try {
    return await work(post);
  } finally {
    await fetch(`${base}/api/session`, { method: 'DELETE', headers: { cookie, 'x-coffer-csrf': csrf } }).catch(
      () => {},
    );
  }
}
