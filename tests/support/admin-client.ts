// The admin API as a script uses it: sign in, then call with the session cookie and CSRF value.
export interface AdminSession {
  readonly cookie: string;
  readonly csrf: string;
}

export async function signIn(adminUrl: string, email: string, password: string): Promise<AdminSession> {
  const res = await fetch(`${adminUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 200) throw new Error(`sign-in answered ${res.status}: ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrf } = (await res.json()) as { csrf: string };
  return { cookie, csrf };
}

export async function adminGet(adminUrl: string, session: AdminSession, path: string): Promise<Response> {
  return fetch(`${adminUrl}${path}`, { headers: { cookie: session.cookie }, signal: AbortSignal.timeout(15_000) });
}

export async function reveal(
  adminUrl: string,
  session: AdminSession,
  id: string,
  reason = 'restore check',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${adminUrl}/api/records/${id}/reveal`, {
    method: 'POST',
    headers: { cookie: session.cookie, 'x-coffer-csrf': session.csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ reason }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
