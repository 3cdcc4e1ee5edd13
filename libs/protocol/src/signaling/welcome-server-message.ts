import { z } from 'zod';

/** Feature lists on the wire are sorted and free of duplicates (fact sheet 1.3). */
export const FeatureListSchema = z
  .array(z.string())
  .refine((list) => list.every((id, i) => i === 0 || (list[i - 1] as string) < id), {
    message: 'features must be sorted alphabetically without duplicates',
  });

/** `welcome` payload; also the (deprecated) `server` object of the hello response. */
export const WelcomePayloadSchema = z.object({
  version: z.string(),
  /** Omitted when empty (Go `omitempty`). */
  features: FeatureListSchema.min(1).optional(),
  country: z.string().min(1).optional(),
});
/** `welcome` payload. */
export type WelcomePayload = z.infer<typeof WelcomePayloadSchema>;

/** `{"type":"welcome","welcome":{version,features}}`, sent right after the upgrade. */
export const WelcomeServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('welcome'),
  welcome: WelcomePayloadSchema,
});
/** `welcome` message. */
export type WelcomeServerMessage = z.infer<typeof WelcomeServerMessageSchema>;
