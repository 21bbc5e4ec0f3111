/** Prometheus metrics of the vault (prom-client), one registry per vault instance. */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export function vaultMetrics() {
  const registry = new Registry();
  return {
    registry,
    stored: new Counter({
      name: 'coffer_vault_records_stored_total',
      help: 'Records committed',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'coffer_vault_records_duplicate_total',
      help: 'Redelivered records already stored (no-ops)',
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'coffer_vault_dead_letters_total',
      help: 'Bus messages that could not be stored, kept in dead_letters',
      registers: [registry],
    }),
    purgedRecords: new Counter({
      name: 'coffer_vault_purged_records_total',
      help: 'Records deleted once past their retention',
      registers: [registry],
    }),
    destroyedDataKeys: new Counter({
      name: 'coffer_vault_destroyed_data_keys_total',
      help: 'Data keys destroyed (row and wrapped copies) once expired and drained of records',
      registers: [registry],
    }),
    // issue 16 item 3: a reveal or export served a decoy record. Any increase is an incident.
    decoyTouches: new Counter({
      name: 'coffer_vault_decoy_touches_total',
      help: 'Decoy records served by a reveal or an export (each one also audited and alerted on the bus)',
      labelNames: ['via'] as const,
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'coffer_vault_store_batch_seconds',
      help: 'Time to commit one batch from the stream',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    auditStreamed: new Gauge({
      name: 'coffer_vault_audit_streamed_seq',
      help: 'Last audit event a SIEM sink took (compare with the head: the lag)',
      labelNames: ['sink'],
      registers: [registry],
    }),
    auditStreamFailures: new Counter({
      name: 'coffer_vault_audit_stream_failures_total',
      help: 'Batches a SIEM sink did not take (sent again at the next interval)',
      labelNames: ['sink'],
      registers: [registry],
    }),
    degraded: new Gauge({
      name: 'coffer_vault_data_key_degraded',
      help: '1 when no data key covers now and the newest is served',
      registers: [registry],
    }),
    horizonDays: new Gauge({
      name: 'coffer_vault_data_key_horizon_days',
      help: 'Days until the last data key window ends; pre-generate keys well before 0',
      registers: [registry],
    }),
  };
}
export type VaultMetrics = ReturnType<typeof vaultMetrics>;
