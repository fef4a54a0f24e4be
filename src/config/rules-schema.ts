import { z } from 'zod';
import { LOCALES } from '../shared/locale.js';
import { parseDuration } from './duration.js';

/**
 * The rules file is how admins configure Mailgrant. Every object is strict so that a typo in a
 * key ("aproovers") is reported instead of silently ignored: a silently ignored approver list
 * would leave requests that nobody is asked to decide.
 */
const email = z
  .string({ error: 'expected an email address' })
  .trim()
  .toLowerCase()
  .regex(/^[^\s@<>()",;:]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}$/i, { error: 'expected an email address such as alice@contoso.example' });

const duration = z
  .string({ error: 'expected a duration such as "12 months"' })
  .refine((v) => parseDuration(v) !== null, { error: 'expected a duration such as "12 months", "30 days" or "1 year"' });

const locale = z.enum(LOCALES, { error: `expected one of ${LOCALES.join(', ')}` });

export const ROLES = ['global-admin', 'license-admin', 'user-admin'] as const;
export type Role = (typeof ROLES)[number];

const productId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: 'expected an id of lower-case letters, digits and dashes' });

export const rulesSchema = z.strictObject({
  organization: z.strictObject({
    name: z.string().min(1),
    mailbox: email,
    locale: locale.default('en'),
  }),
  retention: duration.default('12 months'),
  ownRequestProcess: z
    .strictObject({
      enabled: z.boolean().default(false),
      message: z.string().default(''),
      link: z.url({ error: 'expected a URL' }).nullable().optional(),
    })
    .default({ enabled: false, message: '' }),
  admins: z
    .array(z.strictObject({ email, role: z.enum(ROLES, { error: `expected one of ${ROLES.join(', ')}` }), name: z.string().optional() }))
    .default([]),
  directory: z.strictObject({
    users: z.array(z.strictObject({ email, name: z.string().min(1), locale: locale.optional() })).default([]),
    groups: z
      .array(z.strictObject({ name: z.string().min(1), members: z.array(email).default([]) }))
      .default([]),
  }),
  products: z
    .array(
      z.strictObject({
        id: productId,
        name: z.string().min(1),
        aliases: z.array(z.string().min(1)).default([]),
        seats: z.number({ error: 'expected a number of seats' }).int({ error: 'expected a whole number' }).min(0),
        servicePlans: z.array(z.string().min(1)).default([]),
        approvers: z.array(email).default([]),
        securityGroup: z.string().min(1).optional(),
        vendor: z.string().min(1).optional(),
        purchaseUrl: z.url({ error: 'expected a URL' }).optional(),
        requires: z.array(productId).default([]),
        conflictsWith: z.array(productId).default([]),
      }),
    )
    .min(1, { error: 'expected at least one product' }),
  security: z
    .strictObject({
      /** How long a reply address stays valid after the share was sent. */
      tokenTtl: duration.default('90 days'),
      requireAuthentication: z.boolean().default(false),
      authservId: z.string().min(1).optional(),
    })
    .default({ tokenTtl: '90 days', requireAuthentication: false }),
  autoReplies: z
    .strictObject({
      /** One auto-reply per sender per window, so two auto-responders cannot loop. */
      perSenderWindow: duration.default('7 days'),
    })
    .default({ perSenderWindow: '7 days' }),
});

export type RulesInput = z.input<typeof rulesSchema>;
export type RulesData = z.output<typeof rulesSchema>;
