/** The shapes the portal posts for passkeys: bounded here; the vault verifies what they say. */
import { CredentialId } from '@coffer/protocol';
import { Type } from '@fastify/type-provider-typebox';

const B64url = (max: number) => Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength: max });

/** A RegistrationResponseJSON or AuthenticationResponseJSON from @simplewebauthn/browser. */
export const WebAuthnResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: B64url(4096),
        attestationObject: Type.Optional(B64url(8192)),
        authenticatorData: Type.Optional(B64url(4096)),
        signature: Type.Optional(B64url(1024)),
        userHandle: Type.Optional(B64url(128)),
        publicKey: Type.Optional(B64url(2048)),
        publicKeyAlgorithm: Type.Optional(Type.Integer()),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Object({}, { additionalProperties: true, maxProperties: 8 }),
  },
  { additionalProperties: false },
);

/** A PRF output: 32 bytes, base64url. */
export const PrfOutput = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });

export function prfBytes(b64url: string): Buffer {
  return Buffer.from(b64url, 'base64url');
}
