/**
 * Approvals (issue 16, item 4a): export requests that a two-person rule holds. A key-admin
 * approves or denies someone else's pending request; the requester follows their own and runs an
 * approved one here, once, before it expires. Every step is audited by the vault.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, request, type User } from '../api.ts';
import { readCompleteExport } from '../export-file.ts';
import { DataTable } from '../fields.tsx';
import { download, when } from '../format.ts';
import { useAction, useList } from '../hooks.ts';
import { Alert, Outcome, PageHead } from '../ui.tsx';

export interface ExportApproval {
  id: string;
  requester: string;
  requesterEmail: string | null;
  filter: { type: string | null; from: string | null; to: string | null };
  reason: string;
  records: number;
  requestedAt: string;
  status: 'pending' | 'approved' | 'denied' | 'used' | 'expired';
  decidedAt: string | null;
  usableUntil: string | null;
}

const filterText = (f: ExportApproval['filter']) =>
  [f.type ?? 'all types', f.from ? `from ${when(f.from)}` : null, f.to ? `to ${when(f.to)}` : null]
    .filter(Boolean)
    .join(', ');

interface RecoveryHold {
  userId: string;
  email: string;
  heldAt: string;
  releaseAt: string;
}

/** issue 16 item 4c: break-glass recoveries waiting out their delay; any key-admin may cancel. */
function RecoveryHolds() {
  const [notice, setNotice] = useState<string | null>(null);
  const { error, setError, run } = useAction();
  const { items, load } = useList<RecoveryHold>('/api/recovery-holds', setError);
  const holds = items ?? [];
  const cancel = (h: RecoveryHold) =>
    run(async () => {
      await api('POST', `/api/recovery-holds/${h.userId}/cancel`);
      setNotice(`Cancelled the recovery of ${h.email}; the account is revoked.`);
      await load();
    });
  if (holds.length === 0 && !error && !notice) return null;
  return (
    <div class="card">
      <h2>Break-glass recoveries waiting</h2>
      <Outcome error={error} notice={notice} />
      {holds.length ? (
        <Alert kind="warn">
          Someone rebuilt the recovery key. Unless this was planned, cancel it: the new key-admin gets every key at the
          time shown.
        </Alert>
      ) : null}
      <ul>
        {holds.map((h) => (
          <li key={h.userId}>
            {h.email}, recovered {when(h.heldAt)}, gets the keys {when(h.releaseAt)}{' '}
            <button type="button" class="secondary small" onClick={() => cancel(h)}>
              Cancel recovery<span class="sr-only"> of {h.email}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

const DECISIONS = [
  { decision: 'approve', label: 'Approve', class: 'primary small' },
  { decision: 'deny', label: 'Deny', class: 'secondary small' },
] as const;

/** What a person may do with one request: decide someone else's, wait for or run their own. */
function Actions(props: {
  approval: ExportApproval;
  mine: boolean;
  canDecide: boolean;
  busy: boolean;
  onDecide: (decision: 'approve' | 'deny') => void;
  onRun: () => void;
}) {
  const a = props.approval;
  const who = a.requesterEmail ?? a.requester;
  if (a.status === 'pending' && !props.mine && props.canDecide) {
    return (
      <span class="row">
        {DECISIONS.map((d) => (
          <button
            key={d.decision}
            type="button"
            class={d.class}
            disabled={props.busy}
            aria-label={`${d.label} the export requested by ${who}`}
            onClick={() => props.onDecide(d.decision)}
          >
            {d.label}
          </button>
        ))}
      </span>
    );
  }
  if (a.status === 'pending' && props.mine) return <span class="hint">Waiting for a second key-admin</span>;
  if (a.status === 'approved' && props.mine) {
    return (
      <button type="button" class="primary small" disabled={props.busy} onClick={props.onRun}>
        Run export
      </button>
    );
  }
  return null;
}

const COLUMNS = ['Requested', 'By', 'Records', 'Filter', 'Reason', 'Status', 'Action'];

function RequestsTable(props: { items: ExportApproval[]; actions: (a: ExportApproval) => ComponentChildren }) {
  return (
    <DataTable label="Export requests" caption="Export requests of the last day" columns={COLUMNS}>
      {props.items.map((a) => (
        <tr key={a.id}>
          <td>{when(a.requestedAt)}</td>
          <td>{a.requesterEmail ?? a.requester}</td>
          <td>{a.records.toLocaleString()}</td>
          <td>{filterText(a.filter)}</td>
          <td>{a.reason}</td>
          <td>
            <span class={`badge status-${a.status}`}>{a.status}</span>
            {a.status === 'approved' && a.usableUntil ? ` until ${when(a.usableUntil)}` : null}
          </td>
          <td>{props.actions(a)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

/** Runs an approved export (its filter as approved) and saves it once complete. */
async function runApproved(a: ExportApproval): Promise<string> {
  const f = a.filter;
  const res = await request('POST', '/api/exports', {
    reason: a.reason,
    approvalId: a.id,
    ...(f.type ? { type: f.type } : {}),
    ...(f.from ? { from: f.from } : {}),
    ...(f.to ? { to: f.to } : {}),
  });
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'coffer-export.csv';
  // Saved only when complete: an export cut short has no trailer and saves nothing (issue 9 item 4a).
  const { csv } = await readCompleteExport(res);
  download(name, 'text/csv', [csv]);
  return `Export saved as ${name}.`;
}

export function ApprovalsPage(props: { user: User }) {
  const [notice, setNotice] = useState<string | null>(null);
  const { pending, error, setError, run } = useAction();
  const { items, load } = useList<ExportApproval>('/api/export-requests', setError);

  const act = (a: ExportApproval, what: () => Promise<string>) => {
    setNotice(null);
    return run(
      async () => {
        setNotice(await what());
        await load();
      },
      { key: a.id },
    );
  };
  const decide = (a: ExportApproval, decision: 'approve' | 'deny') =>
    act(a, async () => {
      await api('POST', `/api/export-requests/${a.id}/${decision}`);
      return `${decision === 'approve' ? 'Approved' : 'Denied'} the export requested by ${a.requesterEmail ?? a.requester}.`;
    });

  const mine = (a: ExportApproval) => a.requester === props.user.id;
  return (
    <section>
      <PageHead title="Approvals">
        Large exports need a second key-admin. Requests wait here; whoever approves is never the requester, and an
        approved export runs once, within minutes.
      </PageHead>
      <Outcome error={error} notice={notice} />
      {props.user.role === 'key-admin' ? <RecoveryHolds /> : null}
      <div class="card">
        <h2>Export requests</h2>
        {items === null ? (
          <p aria-busy="true">Loading…</p>
        ) : items.length === 0 ? (
          <p class="hint">No export requests in the last day.</p>
        ) : (
          <RequestsTable
            items={items}
            actions={(a) => (
              <Actions
                approval={a}
                mine={mine(a)}
                canDecide={props.user.role === 'key-admin'}
                busy={pending === a.id}
                onDecide={(d) => decide(a, d)}
                onRun={() => act(a, () => runApproved(a))}
              />
            )}
          />
        )}
      </div>
    </section>
  );
}
