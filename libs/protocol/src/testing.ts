/**
 * For tests only (`@coffer/protocol/testing`): a valid example of any contract schema, made by
 * walking the schema, so that a table-driven test covers every operation, including ones added
 * later, without a hand-written example per row.
 */
import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';
import { AdminContract, type AdminOperation, type AdminRequest } from './admin-contract.ts';
import { FREE_TEXT_PATTERN } from './vocabulary.ts';

// One valid string per pattern the vocabulary uses.
const BY_PATTERN: Record<string, string> = {
  '^[0-9a-f]{64}$': 'ab'.repeat(32),
  '^[A-Za-z0-9+/]*={0,2}$': 'AAAA',
  '^[A-Za-z0-9_-]{43}$': 'A'.repeat(43),
  '^(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{1622})$': 'A'.repeat(43),
  '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$': 'A'.repeat(43),
  '^[A-Za-z0-9_-]{86}$': 'A'.repeat(86),
  '^[A-Za-z0-9_-]+$': 'A'.repeat(43),
  '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$': '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$': '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$': '2026-01-02T03:04:05.000Z',
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$': '2026-01-02T03:04:05.000Z',
  '^[^\\s@\\u0000]+@[^\\s@\\u0000]+$': 'someone@example.com',
  '^[0-9]{6}$': '123456',
  '^[A-Za-z0-9_-]{16,1400}$': 'A'.repeat(22),
  '^[0-9]{4}$': '1234',
  '^[0-9]{30}$': '1'.repeat(30),
};

/** A value that matches `schema` (optional fields left out, arrays at their minimum length or one). */
export function sampleOf(schema: TSchema): unknown {
  if ('const' in schema) return schema.const;
  switch (schema[Kind]) {
    case 'Object':
      return Object.fromEntries(
        Object.entries(schema.properties as Record<string, TSchema>)
          .filter(([, s]) => !(OptionalKind in s))
          .map(([k, s]) => [k, sampleOf(s)]),
      );
    case 'Union':
      return sampleOf((schema.anyOf as TSchema[])[0] as TSchema);
    case 'Array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 0) }, () => sampleOf(schema.items as TSchema));
    case 'Record':
      return {};
    case 'String': {
      if (schema.pattern === undefined) return 'x'.repeat(Math.max(3, schema.minLength ?? 0));
      if (schema.pattern === '^[^\\u0000]*$' || schema.pattern === FREE_TEXT_PATTERN)
        return 'x'.repeat(Math.max(3, schema.minLength ?? 0));
      const sample = BY_PATTERN[schema.pattern];
      if (sample === undefined) throw new Error(`no sample for pattern ${schema.pattern}`);
      return sample;
    }
    case 'Integer':
    case 'Number':
      return schema.minimum ?? 1;
    case 'Boolean':
      return true;
    case 'Unknown':
      return {};
    case 'Null':
    case 'Undefined':
      return schema[Kind] === 'Null' ? null : undefined;
    default:
      throw new Error(`no sample for schema kind ${String(schema[Kind])}`);
  }
}

/** A valid request for `op`. */
export function sampleRequest<Op extends AdminOperation>(op: Op): AdminRequest<Op> {
  return sampleOf(AdminContract[op].request) as AdminRequest<Op>;
}

/** A valid reply result for `op`. */
export function sampleResult(op: AdminOperation): unknown {
  return sampleOf(AdminContract[op].reply);
}
