import 'zod-openapi';
import { TENANT_SLUG_MAX_LENGTH, TENANT_SLUG_PATTERN } from '@citadel/contracts';
import { z } from 'zod';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password-policy.ts';

/**
 * The /auth request shapes. The same schemas validate requests and document them in
 * OpenAPI. Passwords are bounded loosely here (so hashing a megabyte is never asked for);
 * the policy itself (password-policy.ts) answers with its own, clearer problem.
 */
const emailSchema = z
  .email()
  .max(254)
  .meta({ examples: ['ada@example.com'] });
const passwordSchema = z
  .string()
  .min(1)
  .max(1_024)
  .meta({
    description: `${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters; nothing else is required.`,
  });
const displayNameSchema = z.string().trim().min(1).max(200);
const slugSchema = z
  .string()
  .max(64)
  .meta({
    description: `DNS-1123 label of 3–${TENANT_SLUG_MAX_LENGTH} characters, not reserved.`,
    pattern: TENANT_SLUG_PATTERN.source,
  });
/** A token from a mail link: 256 bits in base64url (43 characters). */
const tokenSchema = z.string().min(1).max(128);

export const signUpRequestSchema = z
  .strictObject({
    email: emailSchema,
    password: passwordSchema,
    displayName: displayNameSchema.meta({ examples: ['Ada Lovelace'] }),
    organization: z.strictObject({
      slug: slugSchema.meta({ examples: ['acme'] }),
      displayName: displayNameSchema.meta({ examples: ['Acme Corporation'] }),
    }),
    tenant: z.strictObject({
      slug: slugSchema.meta({ examples: ['acme-prod'] }),
      displayName: displayNameSchema.optional(),
      plan: z.string().min(1).max(64).default('starter'),
    }),
  })
  .meta({ id: 'SignUpRequest' });

export const tokenRequestSchema = z.strictObject({ token: tokenSchema });

export const emailRequestSchema = z.strictObject({ email: emailSchema });

export const loginRequestSchema = z
  .strictObject({ email: emailSchema, password: passwordSchema })
  .meta({ id: 'LoginRequest' });

export const changePasswordRequestSchema = z.strictObject({
  currentPassword: passwordSchema,
  newPassword: passwordSchema,
});

export const confirmPasswordResetRequestSchema = z.strictObject({
  token: tokenSchema,
  password: passwordSchema,
});

export const accountViewSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    displayName: z.string(),
    emailVerified: z.boolean(),
  })
  .meta({ id: 'ConsoleAccount' });

export const sessionViewSchema = z
  .object({
    account: accountViewSchema,
    csrfToken: z.string().meta({ description: 'Echo it in x-csrf-token on every mutation.' }),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'ConsoleSession' });

export const signUpResponseSchema = z
  .object({
    account: accountViewSchema,
    organization: z.object({ id: z.uuid(), slug: z.string(), displayName: z.string() }),
    tenant: z.object({ slug: z.string(), status: z.object({ phase: z.string() }) }).loose(),
  })
  .meta({ id: 'SignUpResponse' });
