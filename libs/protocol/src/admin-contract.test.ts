import { describe, expect, it } from 'vitest';
import {
  checkAdminResult,
  decodeAdminRequest,
  MalformedReply,
  MalformedRequest,
  UnknownOperation,
} from './admin-codec.ts';
import { ADMIN_OPERATIONS, AdminContract, type AdminOperation } from './admin-contract.ts';
import { encodeJson } from './messages.ts';
import { sampleRequest, sampleResult } from './testing.ts';
import { ROLES } from './vocabulary.ts';

const ops = ADMIN_OPERATIONS.map((op) => [op] as [AdminOperation]);

describe('the admin contract table', () => {
  it('names each operation as a subject token would', () => {
    for (const op of ADMIN_OPERATIONS) expect(op).toMatch(/^[a-z]+(?:[.-][a-z]+)*$/);
  });

  it.each(ops)('%s: its policy fits its request', (op) => {
    const { request, policy } = AdminContract[op];
    expect(request.properties.v).toMatchObject({ const: 1 });
    expect(request.additionalProperties).toBe(false);
    if (policy.session === 'none') return;
    // A call made for a signed-in person carries the session hash, never the token.
    expect(Object.keys(request.properties)).toContain('session');
    if (policy.session !== 'required') return;
    if ('target' in policy && policy.target) expect(Object.keys(request.properties)).toContain(policy.target);
    if ('roles' in policy && policy.roles) {
      for (const role of policy.roles) expect(ROLES).toContain(role);
      // A refusal is audited: it needs an action to be recorded under.
      expect(policy.audit).toMatch(/^[a-z.-]+$/);
    }
    if ('mfa' in policy && policy.mfa) expect('roles' in policy && policy.roles).toBeTruthy();
  });

  it.each(ops)('%s: a valid request and a valid reply pass', (op) => {
    expect(decodeAdminRequest(op, encodeJson(sampleRequest(op)))).toEqual(sampleRequest(op));
    expect(checkAdminResult(op, sampleResult(op))).toEqual(sampleResult(op));
  });

  it.each(ops)('%s: an unknown operation is refused by name', (op) => {
    for (const unknown of [`${op}.x`, op.toUpperCase(), ` ${op}`]) {
      expect(() => decodeAdminRequest(unknown as AdminOperation, encodeJson(sampleRequest(op)))).toThrow(
        UnknownOperation,
      );
      expect(() => checkAdminResult(unknown as AdminOperation, sampleResult(op))).toThrow(UnknownOperation);
    }
  });

  it.each(ops)('%s: a malformed request is refused as MalformedRequest', (op) => {
    const good = sampleRequest(op) as Record<string, unknown>;
    const bad = [
      new TextEncoder().encode('{not json'),
      encodeJson({ ...good, v: 2 }),
      encodeJson({ ...good, unexpected: true }),
      encodeJson([good]),
      ...Object.keys(good)
        .filter((k) => k !== 'v')
        .map((k) => encodeJson({ ...good, [k]: undefined })),
    ];
    for (const bytes of bad) {
      expect(() => decodeAdminRequest(op, bytes)).toThrow(MalformedRequest);
    }
  });

  it.each(ops)('%s: a malformed reply is refused as MalformedReply', (op) => {
    const good = sampleResult(op);
    const bad: unknown[] = ['not a reply', 42, [good]];
    if (good !== undefined) bad.push(undefined, null);
    if (good && typeof good === 'object') {
      // Drop each required field in turn.
      for (const k of Object.keys(good)) bad.push({ ...good, [k]: undefined });
    }
    for (const result of bad) {
      expect(() => checkAdminResult(op, result)).toThrow(MalformedReply);
    }
  });
});
