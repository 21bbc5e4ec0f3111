// The staff portal. Values are written with textContent only, never as HTML. The CSRF value lives
// in this page's memory; the session token is in an HttpOnly cookie this script cannot read.

const $ = (id) => document.getElementById(id);
let csrf = null;
let next = null;

function say(text) {
  $('message').textContent = text || '';
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (csrf && method !== 'GET') headers['x-coffer-csrf'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error((data && data.title + (data.detail ? `: ${data.detail}` : '')) || `HTTP ${res.status}`);
  return data;
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

async function loadRecords(reset) {
  if (reset) {
    $('rows').textContent = '';
    next = null;
  }
  const params = new URLSearchParams({ limit: '50' });
  if ($('type').value) params.set('type', $('type').value);
  if (next) params.set('before', next);
  const page = await api('GET', `/api/records?${params}`);
  for (const r of page.items) {
    const tr = document.createElement('tr');
    cell(tr, r.submittedAt.replace('T', ' ').slice(0, 19));
    cell(tr, r.type);
    // A client-sealed record's hint is the submitter's claim; nobody saw the value to check it.
    cell(tr, r.hint ? `…${r.hint}${r.hintSource === 'client' ? ' (client-supplied)' : ''}` : '');
    const td = cell(tr, '', 'value');
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Reveal';
    button.addEventListener('click', () => reveal(r.id, td));
    td.appendChild(button);
    $('rows').appendChild(tr);
  }
  next = page.next;
  $('more').hidden = !next;
}

async function reveal(id, td) {
  const reason = $('reason').value.trim();
  if (reason.length < 3) return say('Give a reason (at least 3 characters) before revealing.');
  try {
    const r = await api('POST', `/api/records/${encodeURIComponent(id)}/reveal`, { reason });
    td.textContent = r.matchesType === false ? `${r.value} — does not match its type` : r.value;
    say('');
  } catch (err) {
    say(err.message);
  }
}

async function loadAudit() {
  const page = await api('GET', '/api/audit?limit=200');
  $('events').textContent = '';
  for (const e of page.items) {
    const tr = document.createElement('tr');
    for (const v of [
      e.seq,
      e.at.replace('T', ' ').slice(0, 19),
      e.actor,
      e.action,
      e.target || '',
      e.reason || '',
      e.outcome,
    ])
      cell(tr, String(v));
    $('events').appendChild(tr);
  }
}

function signedIn(user) {
  $('signin').hidden = true;
  $('signout').hidden = false;
  $('who').textContent = `${user.email} (${user.role})`;
  $('records').hidden = false;
  $('audit').hidden = !(user.role === 'auditor' || user.role === 'key-admin');
  loadRecords(true).catch((err) => say(err.message));
  if (!$('audit').hidden) loadAudit().catch((err) => say(err.message));
}

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const body = { email: form.get('email'), password: form.get('password') };
    if (form.get('totp')) body.totp = form.get('totp');
    const res = await api('POST', '/api/session', body);
    event.target.reset();
    csrf = res.csrf;
    signedIn(res.user);
    say('');
  } catch (err) {
    say(err.message);
  }
});
$('signout').addEventListener('click', async () => {
  await api('DELETE', '/api/session').catch(() => {});
  location.reload();
});
$('type').addEventListener('change', () => loadRecords(true).catch((err) => say(err.message)));
$('more').addEventListener('click', () => loadRecords(false).catch((err) => say(err.message)));
$('verify').addEventListener('click', async () => {
  try {
    const v = await api('GET', '/api/audit/verify');
    $('verdict').textContent = v.ok
      ? `intact: ${v.events} events, head ${v.head.slice(0, 16)}…`
      : `BROKEN at event ${v.brokenAt}`;
  } catch (err) {
    say(err.message);
  }
});
